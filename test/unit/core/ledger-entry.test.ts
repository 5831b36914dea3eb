import { describe, expect, it } from 'vitest';
import { buildLedgerEntry, describeSource, LedgerOutcome, Trigger } from '../../../src/core/ledger-model.js';

const facts = {
  attempt: { id: 'a1', startedAt: '2026-11-23T08:00:00.000Z' },
  app: 'orders-api',
  stage: 'dev',
  build: '7',
  trigger: Trigger.Upload,
  caller: 'arn:aws:sts::111111111111:assumed-role/ferry/x',
  endedAt: '2026-11-23T08:00:05.000Z',
  outcome: LedgerOutcome.Skipped,
};

describe('buildLedgerEntry', () => {
  it('writes the attempt’s id and start, and no field that has no value', () => {
    const entry = buildLedgerEntry({ ...facts, reason: undefined, code: undefined, pipeline: undefined });
    expect(entry).toStrictEqual({
      schema: 1,
      id: 'a1',
      app: 'orders-api',
      stage: 'dev',
      build: '7',
      targets: [],
      trigger: 'upload',
      caller: facts.caller,
      startedAt: '2026-11-23T08:00:00.000Z',
      endedAt: '2026-11-23T08:00:05.000Z',
      outcome: 'skipped',
    });
  });

  it('keeps every fact it is given, and leaves out an empty list of overrides', () => {
    const source = { bucket: 'b', key: 'artifacts/orders-api/7.zip', versionId: 'v1', region: 'eu-west-1' };
    const entry = buildLedgerEntry({
      ...facts,
      outcome: LedgerOutcome.Failed,
      codeSha256: 'sha',
      source,
      pipeline: { jobId: 'job-1' },
      reason: 'it failed',
      code: 'X',
      forced: ['soak'],
      overrides: [],
    });
    expect(entry).toMatchObject({ codeSha256: 'sha', source, pipeline: { jobId: 'job-1' }, reason: 'it failed' });
    expect(entry.code).toBe('X');
    expect(entry.forced).toEqual(['soak']);
    expect('overrides' in entry).toBe(false);
  });
});

describe('describeSource', () => {
  it('names the object version only when the bucket gave one', () => {
    expect(describeSource({ bucket: 'b', key: 'k', region: 'eu-west-1' })).toStrictEqual({
      bucket: 'b',
      key: 'k',
      region: 'eu-west-1',
    });
    expect(describeSource({ bucket: 'b', key: 'k', versionId: 'v', region: 'r' })).toStrictEqual({
      bucket: 'b',
      key: 'k',
      versionId: 'v',
      region: 'r',
    });
  });
});
