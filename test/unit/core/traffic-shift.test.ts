import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ANALYSIS, Verdict } from '../../../src/core/traffic-analysis.js';
import { resolveTrafficPolicy, type TrafficPolicy } from '../../../src/core/traffic-policy.js';
import {
  clearPending,
  decideShift,
  describeNeeds,
  describeWeights,
  endShift,
  nextStepAt,
  type ShiftInput,
  type ShiftSettings,
  type ShiftState,
  ShiftStatus,
  startShift,
} from '../../../src/core/traffic-shift.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
const policy = (name: string): TrafficPolicy => {
  const r = resolveTrafficPolicy(name);
  if (!r.ok) throw new Error(r.problem);
  return r.policy;
};
const settings = (extra: Partial<ShiftSettings> = {}): ShiftSettings => ({
  policy: policy('Canary10Percent5Minutes'),
  alarms: [],
  ignoreAlarms: false,
  bakeMinutes: 0,
  ...extra,
});
const shift = (extra: Partial<ShiftSettings> = {}, waves: string[][] = [['a', 'b']]): ShiftState =>
  startShift({
    id: 's1',
    app: 'orders',
    stage: 'prod',
    build: '42',
    codeSha256: 'sha',
    trigger: 'upload',
    caller: 'arn:ci',
    settings: settings(extra),
    waves,
    targets: waves.flat().map((targetId) => ({ targetId, stableVersion: '1', newVersion: '2' })),
    now: at(0),
  });

/** Applies a decision the way the engine does: write next (pending), apply, clear. */
function step(state: ShiftState, input: Partial<ShiftInput> & { minute: number }) {
  const decision = decideShift(state, { now: at(input.minute), readings: input.readings ?? {}, ...input });
  const next = decision.next.pending.length > 0 ? clearPending(decision.next, at(input.minute)) : decision.next;
  return { ...decision, next };
}

describe('decideShift', () => {
  it('canary: 10% at once, 100% after the hold, then succeeded', () => {
    let s = shift();
    const first = step(s, { minute: 0 });
    expect(first.actions).toEqual([{ kind: 'route', targetIds: ['a', 'b'], percent: 10 }]);
    s = first.next;
    expect(nextStepAt(s)).toBe(at(5));
    expect(step(s, { minute: 4 }).changed).toBe(false);
    const full = step(s, { minute: 5 });
    expect(full.actions).toEqual([{ kind: 'promote', targetIds: ['a', 'b'] }]);
    // 100% → after-traffic (no hook) → bake (0 minutes) → done: the engine runs these in one tick.
    const baking = step(full.next, { minute: 5 });
    const done = step(baking.next, { minute: 5 });
    expect(done.next.status).toBe(ShiftStatus.Succeeded);
    expect(done.next.events.map((e) => e.state)).toEqual(['started', 'shifting', 'shifting', 'succeeded']);
    expect(describeWeights(done.next)).toEqual({ a: 100, b: 100 });
  });

  it('linear: one step per hold, never two at once even when a tick comes late', () => {
    let s = step(shift({ policy: policy('Linear10PercentEvery1Minute') }), { minute: 0 }).next;
    const seen: number[] = [s.position.percent];
    for (let minute = 3; s.status === ShiftStatus.InFlight && minute < 100; minute += 3) {
      s = step(s, { minute }).next;
      seen.push(s.position.percent);
    }
    expect(seen.slice(0, 10)).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it('an alarm in ALARM rolls every reached target back, naming the alarm', () => {
    const s = step(shift({ alarms: ['orders-5xx', 'orders-p99'] }), { minute: 0 }).next;
    const d = decideShift(s, {
      now: at(1),
      readings: {
        alarms: [
          { name: 'orders-5xx', state: 'ALARM' },
          { name: 'orders-p99', state: 'OK' },
        ],
      },
    });
    expect(d.actions).toEqual([{ kind: 'restore', targetIds: ['a', 'b'] }]);
    expect(d.next.status).toBe(ShiftStatus.RolledBack);
    expect(d.next.reason).toBe('alarm orders-5xx in ALARM');
    expect(d.next.pending).toEqual(d.actions);
  });

  it('fails the shift, traffic back, when a configured alarm does not exist', () => {
    const s = step(shift({ alarms: ['typo'] }), { minute: 0 }).next;
    const d = decideShift(s, { now: at(1), readings: { alarms: [{ name: 'typo', state: 'MISSING' }] } });
    expect(d.next.status).toBe(ShiftStatus.Failed);
    expect(d.next.code).toBe('TRAFFIC_ALARM_MISSING');
    expect(d.actions).toEqual([{ kind: 'restore', targetIds: ['a', 'b'] }]);
  });

  it('ignores alarms when told to, and then does not even ask for them', () => {
    const s = step(shift({ alarms: ['orders-5xx'], ignoreAlarms: true }), { minute: 0 }).next;
    expect(describeNeeds(s).alarms).toEqual([]);
    const d = decideShift(s, { now: at(1), readings: { alarms: [{ name: 'orders-5xx', state: 'ALARM' }] } });
    expect(d.next.status).toBe(ShiftStatus.InFlight);
  });

  it('rolls back as soon as the analysis fails, mid-step', () => {
    const s = step(shift({ analysis: DEFAULT_ANALYSIS }), { minute: 0 }).next;
    expect(describeNeeds(s).analysisSince).toBe(at(0));
    const d = decideShift(s, {
      now: at(2),
      readings: { analysis: { verdict: Verdict.Failed, detail: 'new version 100% errors' } },
    });
    expect(d.next.status).toBe(ShiftStatus.RolledBack);
    expect(d.next.code).toBe('TRAFFIC_ANALYSIS_FAILED');
    expect(d.next.reason).toMatch(/at 10%: new version 100% errors/);
  });

  it.each([
    ['wait', 6, ShiftStatus.InFlight, 10],
    ['wait', 5 + 30, ShiftStatus.RolledBack, 0],
    ['proceed', 6, ShiftStatus.InFlight, 100],
    ['rollback', 6, ShiftStatus.RolledBack, 0],
  ] as const)(
    'inconclusive at the end of a step with onInconclusive=%s (minute %i) → %s',
    (onInconclusive, minute, status, percent) => {
      const s = step(shift({ analysis: { ...DEFAULT_ANALYSIS, onInconclusive } }), { minute: 0 }).next;
      const d = step(s, { minute, readings: { analysis: { verdict: Verdict.Inconclusive, detail: '3 invocations' } } });
      expect(d.next.status).toBe(status);
      expect(d.next.position.percent).toBe(percent);
    },
  );

  it('a failed before-traffic hook moves no traffic', () => {
    const s = shift({ beforeTraffic: { payload: { smoke: true } } });
    expect(describeNeeds(s).hook).toBe('before');
    expect(decideShift(s, { now: at(0), readings: {} }).changed).toBe(false);
    const d = decideShift(s, {
      now: at(0),
      readings: {},
      hook: { kind: 'before', passed: false, detail: 'FunctionError Unhandled' },
    });
    expect(d.next.status).toBe(ShiftStatus.RolledBack);
    expect(d.next.reason).toMatch(/before-traffic hook failed: FunctionError Unhandled/);
    expect(d.actions.filter((a) => a.kind !== 'restore')).toEqual([]);
  });

  it('a failed after-traffic hook at 100% rolls back', () => {
    let s = step(shift({ afterTraffic: {} }), { minute: 0 }).next;
    s = step(s, { minute: 5 }).next;
    expect(s.position.percent).toBe(100);
    expect(describeNeeds(s).hook).toBe('after');
    const d = step(s, { minute: 5, hook: { kind: 'after', passed: false, detail: 'smoke test failed' } });
    expect(d.next.status).toBe(ShiftStatus.RolledBack);
    expect(d.actions).toEqual([{ kind: 'restore', targetIds: ['a', 'b'] }]);
  });

  it('waves: bake between waves; a failed gate in wave 2 restores waves 1 and 2 in one decision', () => {
    let s = shift({ bakeMinutes: 10, alarms: ['x'] }, [['a'], ['b', 'c'], ['d']]);
    s = step(s, { minute: 0 }).next; // wave 1 at 10%
    s = step(s, { minute: 5 }).next; // wave 1 at 100%
    s = step(s, { minute: 5 }).next; // baking
    expect(s.events.at(-1)?.state).toBe('baking');
    expect(step(s, { minute: 14 }).changed).toBe(false);
    s = step(s, { minute: 15 }).next; // wave 2 before traffic
    const routed = step(s, { minute: 15 });
    expect(routed.actions).toEqual([{ kind: 'route', targetIds: ['b', 'c'], percent: 10 }]);
    expect(describeWeights(routed.next)).toEqual({ a: 100, b: 10, c: 10, d: 0 });
    const d = decideShift(routed.next, { now: at(16), readings: { alarms: [{ name: 'x', state: 'ALARM' }] } });
    expect(d.actions).toEqual([{ kind: 'restore', targetIds: ['a', 'b', 'c'] }]);
  });

  it('abort and continue are recorded with the caller', () => {
    const s = step(shift(), { minute: 0 }).next;
    const cont = decideShift(s, { now: at(1), readings: {}, command: { kind: 'continue', caller: 'arn:alice' } });
    expect(cont.next.position.percent).toBe(100);
    expect(cont.next.overrides).toEqual([{ at: at(1), caller: 'arn:alice', what: 'continue' }]);
    const abort = decideShift(s, { now: at(1), readings: {}, command: { kind: 'abort', caller: 'arn:bob' } });
    expect(abort.next.status).toBe(ShiftStatus.RolledBack);
    expect(abort.next.reason).toBe('aborted by arn:bob');
  });

  it('superseding ends the shift with traffic back on the stable version', () => {
    const s = step(shift(), { minute: 0 }).next;
    const d = endShift(s, {
      status: ShiftStatus.Superseded,
      reason: 'superseded by 43',
      code: 'TRAFFIC_SUPERSEDED',
      now: at(1),
    });
    expect(d.actions).toEqual([{ kind: 'restore', targetIds: ['a', 'b'] }]);
    expect(d.next.events.at(-1)?.state).toBe('superseded');
    expect(endShift(d.next, { status: ShiftStatus.Failed, reason: 'x', code: 'X', now: at(2) }).changed).toBe(false);
  });

  it('decides nothing while moves are pending (a crashed run re-applies them first)', () => {
    const pending = decideShift(shift(), { now: at(0), readings: {} }).next;
    expect(pending.pending).toHaveLength(1);
    expect(decideShift(pending, { now: at(9), readings: {} }).changed).toBe(false);
  });

  it('every decision bumps seq, never lowers the percentage while in flight, and ends at 0 or 100', () => {
    const input = fc.record({
      minute: fc.integer({ min: 0, max: 3 }),
      alarm: fc.boolean(),
      verdict: fc.constantFrom(Verdict.Successful, Verdict.Inconclusive, Verdict.Failed, undefined),
      hook: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(input, { maxLength: 60 }), (inputs) => {
        let s = shift(
          {
            policy: policy('Linear25PercentEvery1Minute'),
            alarms: ['x'],
            analysis: DEFAULT_ANALYSIS,
            afterTraffic: {},
            beforeTraffic: {},
          },
          [['a'], ['b']],
        );
        let minute = 0;
        for (const i of inputs) {
          minute += i.minute;
          const needs = describeNeeds(s);
          const before = s;
          const d = step(s, {
            minute,
            readings: {
              ...(needs.alarms.length > 0
                ? { alarms: [{ name: 'x', state: i.alarm && i.minute === 3 ? 'ALARM' : 'OK' }] }
                : {}),
              ...(needs.analysisSince && i.verdict ? { analysis: { verdict: i.verdict, detail: '' } } : {}),
            },
            ...(needs.hook ? { hook: { kind: needs.hook, passed: i.hook, detail: '' } } : {}),
          });
          s = d.next;
          if (d.changed) expect(s.seq).toBeGreaterThan(before.seq);
          if (s.status === ShiftStatus.InFlight && s.position.wave === before.position.wave) {
            expect(s.position.percent).toBeGreaterThanOrEqual(before.position.percent);
          }
        }
        if (s.status === ShiftStatus.Succeeded) expect(Object.values(describeWeights(s))).toEqual([100, 100]);
        if (s.status === ShiftStatus.RolledBack) expect(Object.values(describeWeights(s))).toEqual([0, 0]);
      }),
    );
  });
});
