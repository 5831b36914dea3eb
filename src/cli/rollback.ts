/**
 * `ferry rollback --app A --stage S [--to-build B | --to-version V] [--dry-run]`: moves the
 * stage's aliases back to an earlier build (default: the one before the current) or version,
 * without re-uploading anything, and records it in the ledger.
 */
import type { RollbackResult } from '../engine/rollback.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, renderTable, writeJson } from './output.js';
import { findApp } from './upload.js';

export interface RollbackOptions extends CommonOptions {
  readonly app: string;
  readonly stage: string;
  readonly toBuild?: string;
  readonly toVersion?: string;
  readonly dryRun?: boolean;
}

export async function runRollback(ctx: CommandContext, options: RollbackOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const result = await engine.rollback(runtime, ctx.log, {
    app: options.app,
    stage: options.stage,
    trigger: 'cli',
    ...(options.toBuild ? { toBuild: options.toBuild } : {}),
    ...(options.toVersion ? { toVersion: options.toVersion } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  });
  if (options.json) writeJson(ctx.io, result);
  else ctx.io.writeOut(renderRollback(result));
  return exitCodeForRollback(result);
}

/** A failed alias move is 1; rolled back, unchanged and planned are successes. */
export function exitCodeForRollback(result: Pick<RollbackResult, 'status'>): ExitCode {
  return result.status === 'failed' ? ExitCode.Failed : ExitCode.Ok;
}

export function renderRollback(result: RollbackResult): string {
  const table = renderTable(
    ['TARGET', 'ALIAS FROM', 'TO', 'STATUS', 'DETAIL'],
    result.targets.map((t) => [t.targetId, t.fromVersion, t.toVersion, t.status, t.reason]),
  );
  const builds = `${result.fromBuild ? `${result.fromBuild} → ` : ''}${result.toBuild}`;
  return `${table}${result.app} ${result.stage} ${builds}: ${result.status}: ${result.reason}\n`;
}
