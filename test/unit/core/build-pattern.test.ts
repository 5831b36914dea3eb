import { describe, expect, it } from 'vitest';
import { checkBuildPattern } from '../../../src/core/build-pattern.js';
import { parseConfig } from '../../../src/core/config.js';

const base = {
  artifactBucket: 'ferry-artifacts-111111111111',
  region: 'eu-west-1',
  stages: [{ name: 'dev' }],
};
const withPattern = (buildPattern: string) =>
  parseConfig({
    ...base,
    apps: { 'orders-api': { buildPattern, targets: { dev: [{ account: '222222222222', function: 'orders-api' }] } } },
  });

describe('apps.<app>.buildPattern', () => {
  it('is validated when the configuration loads, naming the field', () => {
    expect(() => withPattern('(\\d+')).toThrow(/apps\.orders-api\.buildPattern: not a valid regular expression/);
  });

  it('is kept on the app', () => {
    expect(withPattern('\\d{8}-\\d+').apps['orders-api']?.buildPattern).toBe('\\d{8}-\\d+');
  });

  it.each([
    ['20261122-7', undefined],
    ['99999999999999', /does not match apps\.orders-api\.buildPattern/],
    // The whole id must match, not a part of it.
    ['x20261122-7', /does not match/],
    ['20261122-7-and-more', /does not match/],
  ])('%s', (build, expected) => {
    const problem = checkBuildPattern({ name: 'orders-api', buildPattern: '\\d{8}-\\d+' }, build);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toMatch(expected);
  });

  it('without a pattern every build id is allowed', () => {
    expect(checkBuildPattern({ name: 'orders-api' }, '99999999999999')).toBeUndefined();
  });
});
