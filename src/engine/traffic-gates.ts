/**
 * Reads what a shift decision needs: the configured alarms in every account the shift has reached,
 * the built-in analysis over the wave's targets (Invocations and Errors by ExecutedVersion, summed),
 * and a hook's result on each target of the wave.
 */
import pLimit from 'p-limit';
import type { CloudWatchPort } from '../aws/cloudwatch.js';
import type { LambdaPort } from '../aws/lambda.js';
import type { Target } from '../core/config.js';
import { describeError } from '../core/errors.js';
import { judgeCanary, type VersionSample } from '../core/traffic-analysis.js';
import type { AlarmReading, GateReadings, HookResult, ShiftNeeds, ShiftState } from '../core/traffic-shift.js';

export interface GateDeps {
  readonly lambdaFor: (target: Target, sessionName: string) => Promise<LambdaPort>;
  readonly cloudwatchFor: (target: Target, sessionName: string) => Promise<CloudWatchPort>;
  readonly config: { readonly concurrency: number };
}

const SEVERITY: Record<string, number> = { OK: 0, INSUFFICIENT_DATA: 1, ALARM: 2, MISSING: 3 };

export async function readGates(
  deps: GateDeps,
  shift: ShiftState,
  needs: ShiftNeeds,
  targets: ReadonlyMap<string, Target>,
  sessionName: string,
  now: number,
): Promise<{ readings: GateReadings; hook?: HookResult }> {
  const wave = (shift.waves[shift.position.wave] ?? []).flatMap((id) => {
    const t = targets.get(id);
    return t ? [t] : [];
  });
  const [alarms, analysis, hook] = await Promise.all([
    needs.alarms.length > 0 ? readAlarms(deps, shift, needs.alarms, targets, sessionName) : undefined,
    needs.analysisSince !== undefined
      ? readAnalysis(deps, shift, wave, needs.analysisSince, sessionName, now)
      : undefined,
    needs.hook !== undefined ? runHook(deps, shift, needs.hook, wave, sessionName) : undefined,
  ]);
  return {
    readings: { ...(alarms ? { alarms } : {}), ...(analysis ? { analysis } : {}) },
    ...(hook ? { hook } : {}),
  };
}

/** Alarms are read once per account and Region reached so far; a name's worst state wins, named with its account when several. */
async function readAlarms(
  deps: GateDeps,
  shift: ShiftState,
  names: readonly string[],
  targets: ReadonlyMap<string, Target>,
  sessionName: string,
): Promise<AlarmReading[]> {
  const reached = shift.waves.slice(0, shift.position.wave + 1).flat();
  const byAccount = new Map<string, Target>();
  for (const id of reached) {
    const t = targets.get(id);
    if (t && !byAccount.has(`${t.accountId}/${t.region}`)) byAccount.set(`${t.accountId}/${t.region}`, t);
  }
  const several = byAccount.size > 1;
  const results = await Promise.all(
    [...byAccount.values()].map(async (t) => {
      const cw = await deps.cloudwatchFor(t, sessionName);
      return (await cw.readAlarms(names)).map((a) => ({
        ...a,
        name: several ? `${a.name} (${t.accountId}/${t.region})` : a.name,
      }));
    }),
  );
  return results
    .flat()
    .sort((a, b) => (SEVERITY[b.state] ?? 0) - (SEVERITY[a.state] ?? 0) || a.name.localeCompare(b.name));
}

async function readAnalysis(
  deps: GateDeps,
  shift: ShiftState,
  wave: readonly Target[],
  since: string,
  sessionName: string,
  now: number,
) {
  const settings = shift.settings.analysis;
  if (settings === undefined) return undefined;
  const stable: VersionSample = { invocations: 0, errors: 0 };
  const canary: VersionSample = { invocations: 0, errors: 0 };
  const sum = (into: VersionSample, s: VersionSample | undefined) => {
    (into as { invocations: number }).invocations += s?.invocations ?? 0;
    (into as { errors: number }).errors += s?.errors ?? 0;
  };
  const limit = pLimit(deps.config.concurrency);
  await Promise.all(
    wave.map((t) =>
      limit(async () => {
        const versions = shift.targets[t.id];
        if (!versions) return;
        const cw = await deps.cloudwatchFor(t, sessionName);
        const samples = await cw.readVersionSamples({
          functionName: t.functionName,
          alias: t.alias,
          versions: [versions.stableVersion, versions.newVersion],
          start: new Date(since),
          end: new Date(now),
        });
        sum(stable, samples[versions.stableVersion]);
        sum(canary, samples[versions.newVersion]);
      }),
    ),
  );
  return judgeCanary({ stable, canary }, settings);
}

/** Runs the hook once per target of the wave; it passes only when every run succeeded. */
async function runHook(
  deps: GateDeps,
  shift: ShiftState,
  kind: 'before' | 'after',
  wave: readonly Target[],
  sessionName: string,
): Promise<HookResult> {
  const spec = kind === 'before' ? shift.settings.beforeTraffic : shift.settings.afterTraffic;
  const failures: string[] = [];
  const limit = pLimit(deps.config.concurrency);
  await Promise.all(
    wave.map((t) =>
      limit(async () => {
        const versions = shift.targets[t.id];
        if (!versions || !spec) return;
        const context = {
          app: shift.app,
          stage: shift.stage,
          build: shift.build,
          function: t.functionName,
          alias: t.alias,
          version: versions.newVersion,
          stableVersion: versions.stableVersion,
          hook: kind === 'before' ? 'beforeTraffic' : 'afterTraffic',
        };
        try {
          const lambda = await deps.lambdaFor(t, sessionName);
          // The new version itself gets the configured payload as its own event; a named test
          // function gets the payload with what it is testing.
          const result = spec.function
            ? await lambda.invoke({
                functionName: spec.function,
                payload: { ferry: context, payload: spec.payload ?? {} },
              })
            : await lambda.invoke({
                functionName: t.functionName,
                qualifier: versions.newVersion,
                payload: spec.payload ?? {},
              });
          if (result.functionError || result.statusCode < 200 || result.statusCode >= 300) {
            failures.push(
              `${t.id}: ${result.functionError ?? `status ${result.statusCode}`} ${result.payload.slice(0, 300)}`,
            );
          }
        } catch (error) {
          failures.push(`${t.id}: ${describeError(error)}`);
        }
      }),
    ),
  );
  const what = spec?.function ? `test function ${spec.function}` : 'the new version';
  return failures.length === 0
    ? { kind, passed: true, detail: `${what} passed on ${wave.length} target(s)` }
    : {
        kind,
        passed: false,
        detail: `${what} failed on ${failures.length} of ${wave.length} target(s): ${failures.join('; ')}`,
      };
}
