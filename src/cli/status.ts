/**
 * `ferry status [--app A]`: what runs where. A matrix of apps × stages read live from every target
 * account (build, versions, age, checksum match), flagging drift where an alias does not point
 * where the ledger says.
 */
import type { StageStatusRow, StatusReport } from '../engine/status.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, formatDuration, renderTable, writeJson } from './output.js';
import { findApp } from './upload.js';

export interface StatusOptions extends CommonOptions {
  readonly app?: string;
}

export async function runStatus(ctx: CommandContext, options: StatusOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  if (options.app) findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const report = await engine.readStatus(runtime, options.app ? { app: options.app } : {});
  if (options.json) writeJson(ctx.io, report);
  else ctx.io.writeOut(renderStatus(report));
  return ExitCode.Ok;
}

/**
 * Apps down, stages across; a cell reads `<build> v<version(s)> <age> <mark>`, the mark being
 * `ok` (every target serves the recorded code), `DRIFT` or `?` (nothing to compare). The drift
 * findings follow the matrix, one line each.
 */
export function renderStatus(report: StatusReport): string {
  if (report.rows.length === 0) return 'no app has targets\n';
  const stages = [...new Set(report.rows.map((r) => r.stage))];
  const apps = [...new Set(report.rows.map((r) => r.app))];
  const cell = new Map(report.rows.map((r) => [`${r.app}\u0000${r.stage}`, formatCell(r)]));
  const matrix = renderTable(
    ['APP', ...stages.map((s) => s.toUpperCase())],
    apps.map((app) => [app, ...stages.map((stage) => cell.get(`${app}\u0000${stage}`))]),
  );
  const notes = report.rows.flatMap((r) => [
    ...r.drift.map((d) => `  ${r.app} ${r.stage}: ${d}`),
    ...(r.rolledBackFrom ? [`  ${r.app} ${r.stage}: rolled back from ${r.rolledBackFrom}`] : []),
    ...(r.lastFailureAt ? [`  ${r.app} ${r.stage}: last failed deployment ${r.lastFailureAt}`] : []),
  ]);
  return `${matrix}${notes.length > 0 ? `\n${notes.join('\n')}\n` : ''}`;
}

function formatCell(row: StageStatusRow): string {
  const versions = [...new Set(Object.values(row.versions).map((v) => v ?? '∅'))];
  const live = versions.length > 0 ? ` v${versions.join(',')}` : '';
  const age =
    row.ageSeconds === undefined
      ? ''
      : ` ${row.ageSeconds < 60 ? `${row.ageSeconds}s` : formatDuration(row.ageSeconds * 1000)}`;
  const mark = row.drift.length > 0 ? 'DRIFT' : row.checksumMatches ? 'ok' : '?';
  return `${row.build ?? 'none'}${live}${age} ${mark}`;
}
