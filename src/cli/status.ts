/**
 * `ferry status [--app A] [--wide]`: what runs where, read live from every target account and
 * checked against the ledger. Compact by default (one row per app, a column per stage, then one
 * line per problem); `--wide`, or `--app`, shows one row per target. Exits non-zero when a target
 * is unreadable or drifted, so scripts and monitors notice without parsing.
 */
import type { ShiftSummary } from '../core/traffic-shift.js';
import type { StageStatusRow, StatusReport, TargetStatusRow } from '../engine/status.js';
import type { CommandContext, CommonOptions } from './context.js';
import { ExitCode, exitCodeForErrorKind, formatDuration, renderTable, writeJson } from './output.js';
import { detectTerminal, paint, type Terminal, truncate } from './terminal.js';
import { findApp } from './upload.js';

export interface StatusOptions extends CommonOptions {
  readonly app?: string;
  readonly wide?: boolean;
}

export async function runStatus(ctx: CommandContext, options: StatusOptions): Promise<ExitCode> {
  const { config } = ctx.loadConfig(options);
  if (options.app) findApp(config, options.app);
  const [runtime, engine] = await Promise.all([ctx.openRuntime(config), ctx.engine()]);
  const report = await engine.readStatus(runtime, options.app ? { app: options.app } : {});
  const exitCode = statusExitCode(report);
  if (options.json) writeJson(ctx.io, { ...report, exitCode });
  else {
    const term = detectTerminal(ctx.io, ctx.deps.env);
    const detail = options.wide === true || options.app !== undefined;
    ctx.io.writeOut(detail ? renderStatusWide(report, term) : renderStatus(report, term));
  }
  return exitCode;
}

/**
 * 0 when every target was read and matches the ledger; an unreadable target gives its error's
 * code (4 access denied, 5 throttled or timed out, 1 otherwise); drift alone gives 6.
 */
export function statusExitCode(report: StatusReport): ExitCode {
  const targets = report.rows.flatMap((r) => r.targets);
  const unreadable = targets.filter((t) => t.error !== undefined);
  if (unreadable.length > 0) {
    const codes = new Set(unreadable.map((t) => exitCodeForErrorKind(t.errorKind)));
    const [only] = codes;
    return codes.size === 1 && only !== undefined ? only : ExitCode.Failed;
  }
  return report.rows.some((r) => r.drift.length > 0) ? ExitCode.Drift : ExitCode.Ok;
}

type Health = 'ok' | 'drift' | 'unreadable' | 'unknown';

function stageHealth(row: StageStatusRow): Health {
  if (row.targets.some((t) => t.error !== undefined)) return 'unreadable';
  if (row.drift.length > 0) return 'drift';
  return row.checksumMatches ? 'ok' : 'unknown';
}

function targetHealth(t: TargetStatusRow): Health {
  if (t.error !== undefined) return 'unreadable';
  if (t.drift.length > 0) return 'drift';
  return t.checksumMatches ? 'ok' : 'unknown';
}

const MARK: Record<Health, string> = { ok: 'ok', drift: 'DRIFT', unreadable: 'UNREADABLE', unknown: '?' };

function paintMarks(term: Terminal, text: string): string {
  return text
    .replace(/\bUNREADABLE\b/g, (m) => paint(term, 'red', m))
    .replace(/\bDRIFT\b/g, (m) => paint(term, 'yellow', m))
    .replace(/ ok\b/g, (m) => ` ${paint(term, 'green', m.trimStart())}`);
}

/**
 * Apps down, stages across; a cell reads `<build> v<version(s)> <age> <mark>`, the mark being
 * `ok` (every target serves the recorded code), `DRIFT`, `UNREADABLE` or `?` (nothing recorded and
 * nothing to compare). One line per problem follows, then what to do about them.
 */
export function renderStatus(report: StatusReport, term: Terminal = { color: false, live: false }): string {
  if (report.rows.length === 0) return 'no app has targets\n';
  const stages = [...new Set(report.rows.map((r) => r.stage))];
  const apps = [...new Set(report.rows.map((r) => r.app))];
  const cell = new Map(report.rows.map((r) => [`${r.app}\u0000${r.stage}`, formatCell(r)]));
  const matrix = renderTable(
    ['APP', ...stages.map((s) => s.toUpperCase())],
    apps.map((app) => [app, ...stages.map((stage) => cell.get(`${app}\u0000${stage}`))]),
    {
      ...(term.width === undefined ? {} : { maxWidth: term.width }),
      style: (text, row) => (row < 0 ? paint(term, 'bold', text) : paintMarks(term, text)),
    },
  );
  const fit = (line: string) => (term.width === undefined ? line : truncate(line, term.width));
  const notes = report.rows.flatMap((r) => [
    ...r.targets.flatMap((t) => [
      ...(t.error ? [`  ${r.app} ${r.stage} ${t.targetId}: unreadable: ${t.error}`] : []),
      ...t.drift.map((d) => `  ${r.app} ${r.stage} ${t.targetId}: ${d}`),
    ]),
    ...(r.shift ? [`  ${r.app} ${r.stage}: ${describeShiftLine(r.shift)}`] : []),
    ...(r.rolledBackFrom ? [`  ${r.app} ${r.stage}: rolled back from ${r.rolledBackFrom}`] : []),
    ...(r.lastFailureAt ? [`  ${r.app} ${r.stage}: last failed deployment ${r.lastFailureAt}`] : []),
  ]);
  const body = `${matrix}${notes.length > 0 ? `\n${notes.map(fit).join('\n')}\n` : ''}`;
  return `${body}${renderAdvice(report, fit)}`;
}

/** One row per target: what it serves, what the ledger expects, and why it is flagged. */
export function renderStatusWide(report: StatusReport, term: Terminal = { color: false, live: false }): string {
  if (report.rows.length === 0) return 'no app has targets\n';
  const rows = report.rows.flatMap((r) =>
    r.targets.map((t) => [
      r.app,
      r.stage,
      t.targetId,
      t.liveBuild ?? (t.checksumMatches ? r.build : undefined),
      t.version,
      t.expectedVersion,
      r.build,
      r.ageSeconds === undefined ? undefined : formatAge(r.ageSeconds),
      MARK[targetHealth(t)],
      t.error
        ? `unreadable: ${t.error}`
        : [...(r.shift ? [`shifting to ${r.shift.build}: ${r.shift.weights[t.targetId] ?? 0}%`] : []), ...t.drift].join(
            '; ',
          ),
    ]),
  );
  const table = renderTable(
    ['APP', 'STAGE', 'TARGET', 'LIVE BUILD', 'VERSION', 'LEDGER VERSION', 'LEDGER BUILD', 'AGE', 'STATE', 'DETAIL'],
    rows,
    {
      ...(term.width === undefined ? {} : { maxWidth: term.width }),
      style: (text, row, column) =>
        row < 0 ? paint(term, 'bold', text) : column === 8 ? paintMarks(term, ` ${text}`).slice(1) : text,
    },
  );
  const fit = (line: string) => (term.width === undefined ? line : truncate(line, term.width));
  const shifts = report.rows.flatMap((r) => (r.shift ? [`${r.app} ${r.stage}: ${describeShiftLine(r.shift)}`] : []));
  return `${table}${shifts.length > 0 ? `\n${shifts.map(fit).join('\n')}\n` : ''}${renderAdvice(report, fit)}`;
}

function renderAdvice(report: StatusReport, fit: (line: string) => string): string {
  const targets = report.rows.flatMap((r) => r.targets);
  const unreadable = targets.filter((t) => t.error !== undefined).length;
  const drifted = report.rows.filter((r) => stageHealth(r) === 'drift');
  const neverRecorded = drifted.filter((r) => r.build === undefined).length;
  const lines: string[] = [];
  if (unreadable > 0) {
    lines.push(`${unreadable} target(s) unreadable: fix the access named above (ferry status --wide shows each).`);
  }
  if (drifted.length > 0) {
    lines.push(
      `${drifted.length} app stage(s) drifted${neverRecorded > 0 ? `, ${neverRecorded} never deployed by ferry: \`ferry adopt\` records what they serve as the starting point` : ''}.`,
    );
  }
  return lines.length > 0 ? `\n${lines.map(fit).join('\n')}\n` : '';
}

/**
 * One line per in-flight shift: `shifting build 2 (Canary10Percent5Minutes, wave 1 of 1): 10% on
 * 3 target(s), next step at …; alarm orders-5xx OK; analysis Inconclusive: …`.
 */
export function describeShiftLine(shift: ShiftSummary): string {
  const byPercent = new Map<number, number>();
  for (const percent of Object.values(shift.weights)) byPercent.set(percent, (byPercent.get(percent) ?? 0) + 1);
  const weights = [...byPercent.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([percent, count]) => `${percent}% on ${count} target(s)`)
    .join(', ');
  const parts = [
    `${shift.phase === 'shifting' ? 'shifting' : shift.phase} build ${shift.build} (${shift.policy}, wave ${shift.wave} of ${shift.waves}): ${weights}`,
    shift.nextStepAt ? `next step at ${shift.nextStepAt}` : 'waiting on a hook',
    ...shift.gates.alarms.map((a) => `alarm ${a.name} ${a.state}`),
    ...(shift.gates.analysis ? [`analysis ${shift.gates.analysis.verdict}: ${shift.gates.analysis.detail}`] : []),
  ];
  return parts.join('; ');
}

function formatCell(row: StageStatusRow): string {
  const health = stageHealth(row);
  if (health === 'unreadable' && row.targets.every((t) => t.error !== undefined)) {
    return `${row.build ?? 'none'} ${MARK.unreadable}`;
  }
  const versions = [...new Set(Object.values(row.versions).map((v) => v ?? '∅'))];
  const live = versions.length > 0 ? ` v${versions.join(',')}` : '';
  const age = row.ageSeconds === undefined ? '' : ` ${formatAge(row.ageSeconds)}`;
  const shifting = row.shift ? ` →${row.shift.build} ${Math.max(...Object.values(row.shift.weights), 0)}%` : '';
  return `${row.build ?? 'none'}${live}${age} ${MARK[health]}${shifting}`;
}

function formatAge(seconds: number): string {
  return seconds < 60 ? `${seconds}s` : formatDuration(seconds * 1000);
}
