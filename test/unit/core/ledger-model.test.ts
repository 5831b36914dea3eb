import { describe, expect, it } from 'vitest';
import {
  applyEntryToCurrent,
  type CurrentState,
  entryKey,
  type LedgerEntry,
  sortEntryKeysNewestFirst,
} from '../../../src/core/ledger-model.js';

const entry = (
  build: string,
  outcome: LedgerEntry['outcome'],
  at: string,
  extra: Partial<LedgerEntry> = {},
): LedgerEntry => ({
  schema: 1,
  id: `id-${build}-${at}`,
  app: 'orders-api',
  stage: 'dev',
  build,
  codeSha256: `sha-${build}`,
  targets: [
    {
      targetId: 't1',
      account: '1',
      region: 'r',
      function: 'f',
      alias: 'live',
      version: `v${build}`,
      outcome: 'deployed',
    },
  ],
  trigger: 'upload',
  caller: 'arn',
  startedAt: at,
  endedAt: at,
  outcome,
  ...extra,
});
const fold = (entries: LedgerEntry[]) =>
  entries.reduce<CurrentState | undefined>((state, e) => applyEntryToCurrent(state, e) ?? state, undefined);

describe('applyEntryToCurrent', () => {
  it('a success makes its build current, live since the end of the deployment', () => {
    expect(fold([entry('41', 'succeeded', '2026-01-01T00:00:00.000Z')])).toMatchObject({
      build: '41',
      liveSince: '2026-01-01T00:00:00.000Z',
      targets: { t1: 'v41' },
    });
  });

  it('a re-delivery keeps liveSince (the soak clock does not restart)', () => {
    const state = fold([
      entry('41', 'succeeded', '2026-01-01T00:00:00.000Z'),
      entry('41', 'succeeded', '2026-01-02T00:00:00.000Z'),
    ]);
    expect(state?.liveSince).toBe('2026-01-01T00:00:00.000Z');
  });

  it('a late success of an older build never moves the state backwards', () => {
    const state = fold([
      entry('42', 'succeeded', '2026-01-01T00:00:00.000Z'),
      entry('41', 'succeeded', '2026-01-02T00:00:00.000Z'),
    ]);
    expect(state?.build).toBe('42');
  });

  it('a failure stamps lastFailureAt and keeps the build', () => {
    const failed = entry('43', 'failed', '2026-01-03T00:00:00.000Z', {
      targets: [{ targetId: 't1', account: '1', region: 'r', function: 'f', alias: 'live', outcome: 'failed' }],
    });
    const state = fold([entry('42', 'succeeded', '2026-01-01T00:00:00.000Z'), failed]);
    expect(state).toMatchObject({ build: '42', lastFailureAt: '2026-01-03T00:00:00.000Z' });
  });

  it('skipped and rejected attempts change nothing', () => {
    const live = fold([entry('42', 'succeeded', '2026-01-01T00:00:00.000Z')]);
    expect(applyEntryToCurrent(live, entry('40', 'skipped', '2026-01-02T00:00:00.000Z'))).toBeUndefined();
    expect(applyEntryToCurrent(live, entry('50', 'rejected', '2026-01-02T00:00:00.000Z'))).toBeUndefined();
  });

  it('a rollback goes backwards and remembers the build it left, until a newer build goes live', () => {
    const history = [
      entry('42', 'succeeded', '2026-01-01T00:00:00.000Z'),
      entry('43', 'succeeded', '2026-01-02T00:00:00.000Z'),
      entry('42', 'rolled-back', '2026-01-03T00:00:00.000Z'),
    ];
    expect(fold(history)).toMatchObject({ build: '42', rolledBackFrom: '43', liveSince: '2026-01-03T00:00:00.000Z' });
    const later = fold([...history, entry('44', 'succeeded', '2026-01-04T00:00:00.000Z')]);
    expect(later).toMatchObject({ build: '44' });
    expect(later?.rolledBackFrom).toBeUndefined();
  });

  it('entry keys sort newest first by their time', () => {
    const keys = ['2026-01-01T00:00:00.000Z', '2026-03-01T00:00:00.000Z', '2026-02-01T00:00:00.000Z'].map((t) =>
      entryKey({ app: 'a', stage: 'dev', startedAt: t, id: 'x' }),
    );
    expect(sortEntryKeysNewestFirst(keys)[0]).toBe('ledger/a/dev/entries/20260301T000000.000Z-x.json');
  });
});
