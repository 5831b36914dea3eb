import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AliasState } from '../../../src/core/lambda-model.js';
import { planPrune, shouldPrune } from '../../../src/core/prune-plan.js';

const alias = (name: string, version: string, routing: Record<string, number> = {}): AliasState => ({
  name,
  functionVersion: version,
  revisionId: 'r',
  routing,
});
const range = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1));

describe('planPrune', () => {
  it('keeps the newest N and deletes the rest', () => {
    const plan = planPrune({ versions: ['$LATEST', ...range(6)], aliases: [alias('live', '6')], keep: 3 });
    expect(plan.delete).toEqual(['3', '2', '1']);
    expect(plan.keep).toEqual(['6', '5', '4']);
  });

  it('orders versions numerically, not as text', () => {
    expect(planPrune({ versions: ['9', '10', '11'], aliases: [], keep: 2 }).delete).toEqual(['9']);
  });

  it('never deletes a version an alias points at, routes to, or just left', () => {
    const plan = planPrune({
      versions: range(10),
      aliases: [alias('live', '2', { '3': 0.1 }), alias('beta', '10')],
      keep: 2,
      justLeft: ['5'],
    });
    expect(plan.delete).toEqual(['8', '7', '6', '4', '1']);
    expect(plan.protected.map((p) => p.version).sort()).toEqual(['2', '3', '5']);
  });

  it('deletes nothing when there are no more than N versions', () => {
    expect(planPrune({ versions: range(3), aliases: [], keep: 3 }).delete).toEqual([]);
  });

  it('never deletes a protected version, keeps the N newest, and deletes only older ones (property)', () => {
    const version = fc.integer({ min: 1, max: 60 }).map(String);
    fc.assert(
      fc.property(
        fc.uniqueArray(version, { maxLength: 40 }),
        fc.array(fc.tuple(version, fc.option(version, { nil: undefined })), { maxLength: 4 }),
        fc.array(version, { maxLength: 3 }),
        fc.integer({ min: 1, max: 12 }),
        (versions, aliasSpecs, justLeft, keep) => {
          const aliases = aliasSpecs.map(([v, canary], i) => alias(`a${i}`, v, canary ? { [canary]: 0.5 } : {}));
          const plan = planPrune({ versions, aliases, keep, justLeft });
          const protectedSet = new Set([
            ...aliases.flatMap((a) => [a.functionVersion, ...Object.keys(a.routing)]),
            ...justLeft,
          ]);
          const newest = [...versions].sort((a, b) => Number(b) - Number(a)).slice(0, keep);
          for (const v of plan.delete) {
            expect(protectedSet.has(v)).toBe(false);
            expect(newest).not.toContain(v);
            expect(versions).toContain(v);
          }
          expect(new Set([...plan.delete, ...plan.keep])).toEqual(new Set(versions));
          expect(plan.keep.length).toBeGreaterThanOrEqual(Math.min(keep, versions.length));
        },
      ),
    );
  });
});

describe('shouldPrune', () => {
  it('never prunes while the version number cannot exceed keep', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), (keep, n) => {
        if (n <= keep) expect(shouldPrune(String(n), keep)).toBe(false);
      }),
    );
  });

  it('prunes exactly once in every run of ceil(keep / 5) consecutive versions past keep', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 1000 }), (keep, offset) => {
        const slack = Math.ceil(keep / 5);
        const start = keep + 1 + offset;
        const runs = Array.from({ length: slack }, (_, i) => shouldPrune(String(start + i), keep));
        expect(runs.filter(Boolean)).toHaveLength(1);
      }),
    );
  });

  it('prunes after every deployment for small keep values', () => {
    expect([3, 4, 5, 6].map((n) => shouldPrune(String(n), 2))).toEqual([true, true, true, true]);
    expect(shouldPrune('$LATEST', 2)).toBe(false);
  });
});
