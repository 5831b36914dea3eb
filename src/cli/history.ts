/**
 * `ferry history --app A [--stage S] [--limit N]`: the deployment ledger of an app, newest first:
 * every attempt with its trigger, caller, outcome and reason, including rejected and skipped ones.
 */
import type { LedgerEntry, LedgerTarget } from '../core/ledger-model.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, renderTable, writeJson } from './output.js';
import { findApp } from './upload.js';

export interface HistoryOptions extends CommonOptions {
  readonly app: string;
  readonly stage?: string;
  readonly limit?: number;
}

export async function runHistory(ctx: CommandContext, options: HistoryOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const entries = await engine.readHistory(runtime, {
    app: options.app,
    ...(options.stage ? { stage: options.stage } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  });
  if (options.json) writeJson(ctx.io, { app: options.app, stage: options.stage, entries });
  else ctx.io.writeOut(renderHistory(options.app, entries));
  return ExitCode.Ok;
}

export function renderHistory(app: string, entries: readonly LedgerEntry[]): string {
  if (entries.length === 0) return `no deployments recorded for ${app}\n`;
  return renderTable(
    ['STARTED', 'STAGE', 'BUILD', 'TRIGGER', 'OUTCOME', 'VERSIONS', 'CALLER', 'REASON'],
    entries.map((e) => [
      e.startedAt,
      e.stage,
      e.build,
      e.trigger,
      e.outcome,
      summarizeTargets(e.targets),
      shortCaller(e.caller),
      e.reason ? (e.code ? `${e.reason} [${e.code}]` : e.reason) : '',
    ]),
  );
}

/** `3→4` when every target moved the same way, else one `function:prev→new` per target. */
function summarizeTargets(targets: readonly LedgerTarget[]): string {
  const moves = targets.map((t) => (t.version ? `${t.previousVersion ?? '∅'}→${t.version}` : t.outcome));
  const distinct = [...new Set(moves)];
  if (distinct.length <= 1) return distinct[0] ?? '';
  return targets.map((t, i) => `${t.function}:${moves[i]}`).join(' ');
}

/** The role and session of an assumed-role ARN (the account is in the target), else the ARN. */
function shortCaller(arn: string): string {
  const assumed = /:assumed-role\/(.+)$/.exec(arn);
  return assumed?.[1] ?? arn;
}
