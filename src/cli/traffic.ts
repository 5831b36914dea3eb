/**
 * `ferry traffic status|continue|abort --app A --stage S`: the stage's traffic shift. `status`
 * shows the weights per target, the next step's time and the last gate readings; `continue` skips
 * the rest of the current hold (step, bake, or an inconclusive wait); `abort` rolls back to the
 * stable version. Both run one decision at once under the stage's lease and are recorded in the
 * ledger with the caller.
 */
import { describeWeights, nextStepAt, type ShiftState } from '../core/traffic-shift.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, renderTable, writeJson } from './output.js';
import { findApp } from './upload.js';

export type TrafficAction = 'status' | 'continue' | 'abort';

export interface TrafficOptions extends CommonOptions {
  readonly app: string;
  readonly stage: string;
}

export async function runTraffic(
  ctx: CommandContext,
  action: TrafficAction,
  options: TrafficOptions,
): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  let shift: ShiftState | undefined;
  if (action === 'status') {
    shift = await engine.readShift(runtime, options.app, options.stage);
  } else {
    const caller = await engine.resolveCaller(runtime);
    shift = await engine.advanceShift(runtime, ctx.log, options.app, options.stage, {
      command: { kind: action, caller },
    });
  }
  if (options.json)
    writeJson(ctx.io, shift ? describeShift(shift) : { app: options.app, stage: options.stage, shift: null });
  else ctx.io.writeOut(shift ? renderShift(shift) : `${options.app} ${options.stage}: no traffic shift recorded\n`);
  if (shift === undefined) return action === 'status' ? ExitCode.Ok : ExitCode.Rejected;
  return shift.status === 'failed' ? ExitCode.Failed : ExitCode.Ok;
}

/** The shift as `--json` prints it: the state plus the weights and the next step's time. */
export function describeShift(shift: ShiftState) {
  return { ...shift, weights: describeWeights(shift), nextStepAt: nextStepAt(shift) ?? null };
}

export function renderShift(shift: ShiftState): string {
  const weights = describeWeights(shift);
  const table = renderTable(
    ['TARGET', 'STABLE', 'NEW', 'NEW %'],
    Object.values(shift.targets).map((t) => [
      t.targetId,
      t.stableVersion,
      t.newVersion,
      `${weights[t.targetId] ?? 0}%`,
    ]),
  );
  const lines = [
    `${shift.app} ${shift.stage} build ${shift.build}: ${shift.status} (${shift.settings.policy.name}, wave ${shift.position.wave + 1} of ${shift.waves.length}, ${shift.position.phase})`,
  ];
  const next = nextStepAt(shift);
  if (next) lines.push(`next step at ${next}`);
  for (const alarm of shift.gates?.alarms ?? []) lines.push(`alarm ${alarm.name}: ${alarm.state}`);
  if (shift.gates?.analysis) lines.push(`analysis: ${shift.gates.analysis.verdict}: ${shift.gates.analysis.detail}`);
  if (shift.reason) lines.push(`reason: ${shift.reason}`);
  for (const o of shift.overrides) lines.push(`override: ${o.what} by ${o.caller} at ${o.at}`);
  return `${table}${lines.join('\n')}\n`;
}
