/**
 * `ferry promote --app A --from S1 --to S2 [--build B] [--force] [--dry-run]`: moves the build
 * proven in one stage to the next, the same artifact object version, through the same engine as
 * the schedule. Prints every rule check, so "why not" is always answered.
 */
import type { DeploymentSummary } from '../engine/deploy-summary.js';
import type { PromotionResult } from '../engine/promote.js';
import type { CommandContext, CommonOptions } from './context.js';
import { trafficOverridesOf } from './deploy.js';
import { ExitCode, renderTable, writeJson } from './output.js';
import { startProgress } from './progress.js';
import { findApp } from './upload.js';

export interface PromoteOptions extends CommonOptions {
  readonly app: string;
  readonly from: string;
  readonly to: string;
  readonly build?: string;
  readonly force?: boolean;
  readonly dryRun?: boolean;
  readonly traffic?: 'allAtOnce';
  readonly ignoreAlarms?: boolean;
}

export async function runPromote(ctx: CommandContext, options: PromoteOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const targets = options.dryRun ? [] : (config.apps[options.app]?.targets[options.to] ?? []);
  const progress = startProgress(ctx.io, ctx.deps.env, options.to, targets, options);
  const result = await engine
    .promote(runtime, ctx.log, {
      app: options.app,
      from: options.from,
      to: options.to,
      trigger: 'cli',
      ...(options.build ? { build: options.build } : {}),
      ...(options.force ? { force: true } : {}),
      ...(options.dryRun ? { dryRun: true } : {}),
      onTargetDone: progress.onTargetDone,
      ...trafficOverridesOf(options),
    })
    .finally(() => progress.stop());
  if (options.json) writeJson(ctx.io, result);
  else ctx.io.writeOut(renderPromotion(result));
  return exitCodeForPromotion(result);
}

/**
 * Promoted, planned and nothing-to-promote are successes (running it twice is harmless); a rule
 * holding the build back is a refusal (3: --force overrides it), as is a pair without a rule or a ledger
 * that disagrees with what the source stage serves; a failed deployment is 1.
 */
export function exitCodeForPromotion(result: Pick<PromotionResult, 'status'>): ExitCode {
  switch (result.status) {
    case 'promoted':
    case 'planned':
    case 'nothing-to-promote':
      return ExitCode.Ok;
    case 'waiting':
    case 'refused':
      return ExitCode.Rejected;
    default:
      return ExitCode.Failed;
  }
}

export function renderPromotion(result: PromotionResult): string {
  const checks =
    result.checks.length > 0
      ? renderTable(
          ['CHECK', 'RESULT', 'DETAIL'],
          result.checks.map((c) => [c.name, c.passed ? 'pass' : c.overridden ? 'overridden' : 'FAIL', c.detail]),
        )
      : '';
  const deployment = result.deployment ? renderDeploymentSummary(result.deployment) : '';
  const hint = result.status === 'waiting' ? ' (--force promotes anyway)' : '';
  return `${checks}${deployment}${result.app} ${result.from} → ${result.to}: ${result.status}: ${result.reason}${hint}\n`;
}

/** Per-target rows of a deployment the engine ran on the CLI's behalf (promotion, rollback). */
export function renderDeploymentSummary(summary: DeploymentSummary): string {
  const rows = summary.stages.flatMap((s) =>
    s.targets.map((t) => [
      s.stage,
      t.targetId,
      t.status,
      t.version
        ? t.previousVersion && t.previousVersion !== t.version
          ? `${t.previousVersion} → ${t.version}`
          : t.version
        : '',
      t.reason ?? '',
    ]),
  );
  return rows.length > 0 ? renderTable(['STAGE', 'TARGET', 'STATUS', 'VERSION', 'DETAIL'], rows) : '';
}
