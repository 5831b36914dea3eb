/**
 * `ferry adopt [--app A] [--stage S] [--build B] [--dry-run]`: for functions ferry has never
 * deployed, records the versions their aliases serve as each stage's starting point in the
 * ledger (with the caller), so `ferry status` compares against them instead of flagging drift.
 * Stages the ledger already records are left alone.
 */
import type { AdoptResult } from '../engine/adopt.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, renderTable, writeJson } from './output.js';
import { detectTerminal } from './terminal.js';
import { findApp } from './upload.js';

export interface AdoptOptions extends CommonOptions {
  readonly app?: string;
  readonly stage?: string;
  readonly build?: string;
  readonly dryRun?: boolean;
}

export async function runAdopt(ctx: CommandContext, options: AdoptOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  if (options.app) findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const result = await engine.adopt(runtime, ctx.log, {
    ...(options.app ? { app: options.app } : {}),
    ...(options.stage ? { stage: options.stage } : {}),
    ...(options.build ? { build: options.build } : {}),
    ...(options.dryRun ? { dryRun: true } : {}),
  });
  const refused = result.stages.some((s) => s.plan.kind === 'refused');
  const exitCode = refused ? ExitCode.Rejected : ExitCode.Ok;
  if (options.json) writeJson(ctx.io, { ...result, exitCode });
  else ctx.io.writeOut(renderAdoption(result, detectTerminal(ctx.io, ctx.deps.env).width));
  return exitCode;
}

export function renderAdoption(result: AdoptResult, width?: number): string {
  if (result.stages.length === 0) return 'no app has targets to adopt\n';
  const rows = result.stages.map((s) => {
    const { plan } = s;
    switch (plan.kind) {
      case 'adopt':
        return [
          s.app,
          s.stage,
          s.overtaken ? 'overtaken' : result.dryRun ? 'would adopt' : 'adopted',
          plan.build,
          [...new Set(plan.targets.map((t) => `v${t.version}`))].join(','),
          s.overtaken
            ? 'a deployment recorded this stage first; nothing adopted'
            : `${plan.targets.length} target(s), code ${plan.codeSha256.slice(0, 12)}…`,
        ];
      case 'recorded':
        return [s.app, s.stage, 'recorded', plan.build, '', 'ferry already records this stage'];
      case 'nothing':
        return [s.app, s.stage, 'nothing', '', '', plan.reason];
      default:
        return [s.app, s.stage, 'refused', '', '', plan.reason];
    }
  });
  const table = renderTable(['APP', 'STAGE', 'RESULT', 'BUILD', 'VERSIONS', 'DETAIL'], rows, {
    ...(width === undefined ? {} : { maxWidth: width }),
  });
  const adopted = result.stages.filter((s) => s.plan.kind === 'adopt' && !s.overtaken).length;
  const summary = result.dryRun
    ? `dry run: ${adopted} stage(s) would be adopted; nothing was recorded`
    : `${adopted} stage(s) adopted, recorded in the ledger as ${result.caller}`;
  return `${table}${summary}\n`;
}
