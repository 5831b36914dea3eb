import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBuilds, decodeEventKey, formatArtifactKey, parseArtifactKey } from '../../../src/core/artifact-key.js';
import { InputError } from '../../../src/core/errors.js';

const appArb = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
const buildArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/);

describe('parseArtifactKey', () => {
  it.each([
    ['artifacts/orders-api/42.zip', { app: 'orders-api', build: '42' }],
    ['artifacts/orders-api/2026.11.22-7.zip', { app: 'orders-api', build: '2026.11.22-7' }],
    ['artifacts/a/B_1-x.zip', { app: 'a', build: 'B_1-x' }],
  ])('reads app and build from %s', (key, expected) => {
    expect(parseArtifactKey(key, 'artifacts/')).toEqual(expected);
  });

  it.each([
    ['other/orders-api/42.zip', 'outside the artifact prefix'],
    ['artifacts/orders-api/42.tar.gz', 'does not follow the convention'],
    ['artifacts/orders-api/prod/42.zip', 'does not follow the convention'],
    ['artifacts/orders-api/../42.zip', 'does not follow the convention'],
    ['artifacts/Orders/42.zip', 'not a valid app name'],
    ['artifacts/orders-api/.zip', 'not a valid build id'],
    ['artifacts/orders-api/-1.zip', 'not a valid build id'],
    ['artifacts/orders-api/a b.zip', 'not a valid build id'],
  ])('rejects %s (%s)', (key, reason) => {
    expect(() => parseArtifactKey(key, 'artifacts/')).toThrowError(InputError);
    expect(() => parseArtifactKey(key, 'artifacts/')).toThrowError(reason);
  });

  it('round-trips every valid app and build', () => {
    fc.assert(
      fc.property(appArb, buildArb, (app, build) => {
        expect(parseArtifactKey(formatArtifactKey('artifacts/', { app, build }), 'artifacts/')).toEqual({ app, build });
      }),
    );
  });

  it('never accepts a key with extra path segments, whatever they are', () => {
    fc.assert(
      fc.property(appArb, fc.string({ minLength: 1, maxLength: 10 }), buildArb, (app, middle, build) => {
        expect(() => parseArtifactKey(`artifacts/${app}/${middle}/${build}.zip`, 'artifacts/')).toThrowError(
          InputError,
        );
      }),
    );
  });
});

describe('decodeEventKey', () => {
  it('decodes URL encoding and + as space, as S3 events encode keys', () => {
    expect(decodeEventKey('artifacts/my+app/build%3D1.zip')).toBe('artifacts/my app/build=1.zip');
  });

  it('rejects malformed percent-encoding with a clear error', () => {
    expect(() => decodeEventKey('artifacts/%E0%A4%A.zip')).toThrowError(/not valid URL encoding/);
  });

  it('inverts encodeURIComponent for any key', () => {
    fc.assert(
      fc.property(fc.string(), (key) => {
        expect(decodeEventKey(encodeURIComponent(key))).toBe(key);
      }),
    );
  });
});

describe('compareBuilds', () => {
  it.each([
    ['9', '10'],
    ['1.2.9', '1.2.10'],
    ['20261101-1', '20261102-0'],
    ['build-99', 'build-100'],
    ['007', '8'],
    ['1.0', '1.0.1'],
  ])('orders %s before %s', (older, newer) => {
    expect(compareBuilds(older, newer)).toBeLessThan(0);
    expect(compareBuilds(newer, older)).toBeGreaterThan(0);
  });

  it('is a total order: reflexive, antisymmetric and transitive', () => {
    fc.assert(
      fc.property(buildArb, buildArb, buildArb, (a, b, c) => {
        expect(compareBuilds(a, a)).toBe(0);
        // + 0 folds -0 into 0: toBe tells them apart.
        expect(Math.sign(compareBuilds(a, b)) + 0).toBe(-Math.sign(compareBuilds(b, a)) + 0);
        if (compareBuilds(a, b) === 0) expect(a).toBe(b);
        if (compareBuilds(a, b) <= 0 && compareBuilds(b, c) <= 0) expect(compareBuilds(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('orders plain build numbers numerically', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        expect(Math.sign(compareBuilds(String(a), String(b)))).toBe(Math.sign(a - b));
      }),
    );
  });
});
