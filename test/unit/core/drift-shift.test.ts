import { describe, expect, it } from 'vitest';
import { assessTarget, type ShiftingTarget } from '../../../src/core/drift.js';
import type { CurrentState } from '../../../src/core/ledger-model.js';

const ID = '444444444444/eu-west-1/orders:live';
const current: CurrentState = {
  schema: 1,
  app: 'orders',
  stage: 'prod',
  build: '1',
  codeSha256: 'sha-1',
  liveSince: '2026-11-23T08:00:00.000Z',
  targets: { [ID]: '1' },
  lastEntryId: 'e1',
  updatedAt: '2026-11-23T08:00:00.000Z',
};
const shift = (percent: number): ShiftingTarget => ({
  stableVersion: '1',
  newVersion: '2',
  percent,
  codeSha256: 'sha-2',
});
const alias = (functionVersion: string, routing: Record<string, number> = {}) => ({
  name: 'live',
  functionVersion,
  routing,
  revisionId: 'r1',
});

describe('drift while a traffic shift is in flight', () => {
  it.each([
    ['10 % routed to the new version at 10 %', alias('1', { '2': 0.1 }), 'sha-1', 10, [], true],
    ['the stable version alone before its wave', alias('1'), 'sha-1', 0, [], true],
    ['the new version alone once its wave is at 100 %', alias('2'), 'sha-2', 100, [], true],
    [
      'a weight the shift did not set',
      alias('1', { '2': 0.3 }),
      'sha-1',
      10,
      ['alias live routes 30% to version 2'],
      true,
    ],
    [
      'other code behind the new version at 100 %',
      alias('2'),
      'sha-x',
      100,
      ['version 2 holds code sha-x, not the shifted sha-2'],
      false,
    ],
  ] as const)('%s', (_name, live, codeSha256, percent, drift, checksumMatches) => {
    const assessed = assessTarget(ID, 'live', { alias: live, codeSha256 }, current, shift(percent));
    expect(assessed.drift).toEqual(drift);
    expect(assessed.checksumMatches).toBe(checksumMatches);
  });

  it('without a shift, routing is drift', () => {
    expect(assessTarget(ID, 'live', { alias: alias('1', { '2': 0.1 }), codeSha256: 'sha-1' }, current).drift).toEqual([
      'alias live routes 10% to version 2',
    ]);
  });
});
