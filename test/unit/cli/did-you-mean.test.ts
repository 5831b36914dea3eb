import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/core/config.js';
import { CONFIG, createHarness } from './cli-harness.js';

describe('did you mean', () => {
  it('suggests the app for a misspelt --app (exit 3)', async () => {
    const run = await createHarness().run('history', '--app', 'ordres-api');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("No app 'ordres-api' is configured. Did you mean 'orders-api'?");
  });

  it('suggests the flag for a misspelt option (exit 2)', async () => {
    const run = await createHarness().run('deploy', 'x.zip', '--app', 'orders-api', '--stage', 'dev', '--dryrun');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--dryrun'\n\(Did you mean --dry-run\?\)/);
  });

  it('suggests the command for a misspelt command (exit 2)', async () => {
    const run = await createHarness().run('stauts');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('(Did you mean status?)');
  });

  it('suggests configuration keys at any depth, and keeps the quote-your-account-id hint', () => {
    const config = {
      ...CONFIG,
      keepVersion: 3,
      apps: { 'orders-api': { targets: { dev: [{ account: '222222222222', fucntion: 'orders-api' }] } } },
    };
    expect(() => parseConfig(config)).toThrow(/\(root\): unknown key 'keepVersion' \(did you mean 'keepVersions'\?\)/);
    expect(() => parseConfig(config)).toThrow(
      /apps\.orders-api\.targets\.dev\[0\]: unknown key 'fucntion' \(did you mean 'function'\?\)/,
    );
    const unquoted = {
      ...CONFIG,
      apps: { 'orders-api': { targets: { dev: [{ account: 222222222222, function: 'f' }] } } },
    };
    expect(() => parseConfig(unquoted)).toThrow(
      /dev\[0\].account: expected a 12-digit AWS account id as a string: quote it in YAML/,
    );
  });
});
