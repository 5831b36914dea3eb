import { describe, expect, it } from 'vitest';
import { ADOPTED_BUILD, type LiveAlias, planAdoption } from '../../../src/core/adopt-plan.js';
import { compareBuilds } from '../../../src/core/artifact-key.js';
import { applyEntryToCurrent, type LedgerEntry } from '../../../src/core/ledger-model.js';

const live = (id: string, extra: Partial<LiveAlias> = {}): LiveAlias => ({
  targetId: id,
  account: '222222222222',
  region: 'eu-west-1',
  function: id,
  alias: 'live',
  version: '3',
  codeSha256: 'AAA=',
  ...extra,
});

describe('planAdoption', () => {
  it('adopts the versions every alias serves when all serve the same code', () => {
    const plan = planAdoption('prod', undefined, [live('a'), live('b', { version: '7' })]);
    expect(plan).toMatchObject({ kind: 'adopt', build: ADOPTED_BUILD, codeSha256: 'AAA=' });
    expect(plan.kind === 'adopt' && plan.targets.map((t) => t.version)).toEqual(['3', '7']);
  });

  it('takes the build from ferry-written version descriptions, or the one asked for', () => {
    expect(planAdoption('prod', undefined, [live('a', { liveBuild: '41' })])).toMatchObject({ build: '41' });
    expect(planAdoption('prod', undefined, [live('a', { liveBuild: '41' })], '40')).toMatchObject({ build: '40' });
    expect(planAdoption('prod', undefined, [live('a')], '../x')).toMatchObject({ kind: 'refused' });
  });

  it.each([
    ['the ledger already records the stage', '12', [live('a')], 'recorded'],
    ['no alias exists yet', undefined, [live('a', { version: undefined, codeSha256: undefined })], 'nothing'],
    ['a target cannot be read', undefined, [live('a'), live('b', { error: 'AccessDenied' })], 'refused'],
    ['a target has no alias', undefined, [live('a'), live('b', { version: undefined })], 'refused'],
    ['the targets serve different code', undefined, [live('a'), live('b', { codeSha256: 'BBB=' })], 'refused'],
  ] as const)('does not adopt when %s', (_why, recorded, targets, kind) => {
    expect(planAdoption('prod', recorded, targets).kind).toBe(kind);
  });

  it('records a default build that every real build id sorts after', () => {
    for (const build of ['0', '1', '20261122T101500Z', 'v1.2', 'a', '0.0.1']) {
      if (build === '0') continue;
      expect(compareBuilds(ADOPTED_BUILD, build), build).toBeLessThan(0);
    }
  });
});

describe('an adoption in the ledger', () => {
  const entry: LedgerEntry = {
    schema: 1,
    id: 'e1',
    app: 'orders-api',
    stage: 'prod',
    build: ADOPTED_BUILD,
    codeSha256: 'AAA=',
    targets: [
      {
        targetId: 't',
        account: '222222222222',
        region: 'eu-west-1',
        function: 'orders-api',
        alias: 'live',
        previousVersion: '3',
        version: '3',
        outcome: 'adopted',
      },
    ],
    trigger: 'cli',
    caller: 'arn:aws:sts::111111111111:assumed-role/ferry-operator/alice',
    startedAt: '2026-11-22T08:00:00.000Z',
    endedAt: '2026-11-22T08:00:01.000Z',
    outcome: 'adopted',
  };

  it('becomes the starting point of a stage with no recorded build', () => {
    expect(applyEntryToCurrent(undefined, entry)).toMatchObject({
      build: ADOPTED_BUILD,
      codeSha256: 'AAA=',
      targets: { t: '3' },
      lastEntryId: 'e1',
    });
  });

  it('never replaces a build ferry recorded', () => {
    const current = applyEntryToCurrent(undefined, { ...entry, id: 'e0', build: '5', outcome: 'succeeded' });
    expect(applyEntryToCurrent(current, entry)).toBeUndefined();
  });
});
