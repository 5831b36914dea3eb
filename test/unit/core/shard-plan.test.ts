import { describe, expect, it } from 'vitest';
import type { Target } from '../../../src/core/config.js';
import {
  aggregateShards,
  decideShardClaim,
  hasTimeForTarget,
  listUnfinished,
  mergeFinished,
  planShards,
  readShardEvent,
  type ShardEvent,
  type ShardManifest,
  type ShardRecord,
} from '../../../src/core/shard-plan.js';

const target = (account: string, fn: string, region = 'eu-west-1'): Target => ({
  id: `${account}/${region}/${fn}:live`,
  stage: 'prod',
  accountId: account,
  region,
  functionName: fn,
  alias: 'live',
  roleArn: `arn:aws:iam::${account}:role/ferry-deploy`,
});

const fleet = (accounts: number, perAccount: number) =>
  Array.from({ length: accounts }, (_, a) =>
    Array.from({ length: perAccount }, (_, f) => target(String(100000000000 + a), `fn-${f}`)),
  ).flat();

describe('planShards', () => {
  it('keeps every account and Region in one shard and balances the shards', () => {
    const shards = planShards(fleet(1000, 10), 500);
    expect(shards).toHaveLength(20);
    expect(shards.every((s) => s.length === 500)).toBe(true);
    const owner = new Map<string, number>();
    shards.forEach((s, i) => {
      for (const t of s) {
        const key = `${t.accountId}/${t.region}`;
        expect(owner.get(key) ?? i).toBe(i);
        owner.set(key, i);
      }
    });
    expect(owner.size).toBe(1000);
  });

  it('gives an account larger than a shard a shard of its own rather than splitting it', () => {
    const big = Array.from({ length: 7 }, (_, f) => target('111111111111', `f${f}`));
    const shards = planShards([...big, ...fleet(2, 2)], 4);
    expect(shards.find((s) => s.some((t) => t.accountId === '111111111111'))).toHaveLength(7);
  });

  it('is one shard when the stage fits, in the configuration order', () => {
    const targets = fleet(3, 2);
    expect(planShards(targets, 500)).toEqual([targets]);
  });

  it('separates Regions of the same account (each has its own rate budget)', () => {
    const shards = planShards([target('1', 'a', 'eu-west-1'), target('1', 'a', 'us-east-1')], 1);
    expect(shards).toHaveLength(2);
  });
});

const event = (segment: number): ShardEvent => ({
  ferry: 'stage-shard',
  app: 'fleet',
  stage: 'prod',
  deploymentId: 'd-1',
  shard: 0,
  segment,
});
const record = (over: Partial<ShardRecord> = {}): ShardRecord => ({
  schema: 1,
  shard: 0,
  segment: 1,
  targets: {},
  done: false,
  invocations: 1,
  ...over,
});
const NOW = Date.parse('2026-12-01T00:00:00Z');

describe('decideShardClaim', () => {
  it('claims a fresh shard, and one whose claim lapsed (its invocation died)', () => {
    expect(decideShardClaim(undefined, event(0), NOW)).toEqual({ action: 'claim' });
    const lapsed = record({ claim: { by: 'x', until: new Date(NOW - 1).toISOString() } });
    expect(decideShardClaim(lapsed, event(1), NOW)).toEqual({ action: 'claim' });
  });

  it('waits for a live claim, exits on a done shard or a stale segment, and lets a later segment claim', () => {
    const live = record({ claim: { by: 'x', until: new Date(NOW + 5_000).toISOString() } });
    expect(decideShardClaim(live, event(1), NOW)).toEqual({ action: 'wait', untilMs: NOW + 5_000 });
    expect(decideShardClaim(record({ done: true }), event(5), NOW)).toEqual({ action: 'exit', why: 'done' });
    expect(decideShardClaim(record({ segment: 2 }), event(1), NOW)).toEqual({ action: 'exit', why: 'stale' });
    expect(decideShardClaim(record({ segment: 1 }), event(2), NOW)).toEqual({ action: 'claim' });
  });
});

describe('shard results', () => {
  const t = (id: string, outcome: string) => ({
    targetId: id,
    account: '',
    region: '',
    function: id,
    alias: 'live',
    outcome,
  });

  it('keeps a target’s first result and lists what is left', () => {
    const merged = mergeFinished({ a: t('a', 'deployed') }, [t('a', 'unchanged'), t('b', 'failed')]);
    expect(merged.a?.outcome).toBe('deployed');
    expect(merged.b?.outcome).toBe('failed');
    expect(listUnfinished(['a', 'b', 'c'], record({ targets: merged }))).toEqual(['c']);
  });

  it('aggregates only when every shard is done, in the manifest order', () => {
    const manifest = { shards: [['a', 'b'], ['c']] } as unknown as ShardManifest;
    const first = record({ done: true, targets: { b: t('b', 'deployed'), a: t('a', 'failed') } });
    expect(aggregateShards(manifest, [first, undefined])).toEqual({ complete: false, pending: [1] });
    const done = aggregateShards(manifest, [
      first,
      record({ shard: 1, done: true, targets: { c: t('c', 'deployed') } }),
    ]);
    expect(done.complete && done.targets.map((x) => x.targetId)).toEqual(['a', 'b', 'c']);
    expect(done.complete && done.failed.map((x) => x.targetId)).toEqual(['a']);
  });
});

describe('readShardEvent and the time check', () => {
  it('tells other events, malformed shard events and good ones apart', () => {
    expect(readShardEvent({ Records: [] })).toBeUndefined();
    expect(readShardEvent({ ferry: 'stage-shard', app: 'x' })).toEqual({
      problem: 'missing or invalid: stage, deploymentId, shard, segment',
    });
    expect(readShardEvent(event(3))).toEqual(event(3));
  });

  it('starts a target only with more than the margin left', () => {
    expect(hasTimeForTarget(90_001, 90_000)).toBe(true);
    expect(hasTimeForTarget(90_000, 90_000)).toBe(false);
  });
});
