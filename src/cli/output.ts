/**
 * What every command shares for output: where text goes (injected, so tests capture it), exit
 * codes by failure kind, `--json` rendering, plain aligned tables, one progress line per finished
 * target, and error reporting that never shows a stack trace unless FERRY_DEBUG=1.
 */
import { translateAwsError } from '../aws/sdk-errors.js';
import { type ErrorKind, isFerryError } from '../core/errors.js';
import type { TargetOutcome } from '../engine/deploy-stage.js';

/** Where a command writes: stdout carries the result, stderr progress and errors. */
export interface CliIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** stdout is a terminal (colour, tables fitted to its width). */
  readonly stdoutIsTTY?: boolean;
  /** stderr is a terminal (live progress). */
  readonly stderrIsTTY?: boolean;
  /** The terminal's width in columns. */
  readonly columns?: number;
}

/** Exit codes by failure kind; scripts branch on these, so they never change meaning. */
export const ExitCode = {
  Ok: 0,
  /** A deployment, promotion or rollback ran and failed (or failed for mixed reasons). */
  Failed: 1,
  /** Bad command line or configuration: nothing was attempted. */
  Usage: 2,
  /** Input refused before anything changed: bad artifact, unknown app, stage or target, out-of-order build. */
  Rejected: 3,
  /** AWS denied access: role assumption, bucket policy, missing permission. */
  AccessDenied: 4,
  /** Conflict, throttling or timeout: retrying later may succeed. */
  Transient: 5,
  /** `ferry status`: every target was read, and some do not serve what the ledger records. */
  Drift: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `Exit codes:
  0  ok (dry runs too)
  1  a deployment, promotion or rollback failed
  2  usage or configuration error (nothing was attempted)
  3  input rejected: bad artifact, unknown app, stage or target, build out of order
  4  access denied (role assumption, bucket, permissions)
  5  conflict, throttling or timeout: retrying later may succeed
  6  status: drift (an alias is not where the ledger says; \`ferry adopt\` for functions ferry never deployed)
     (status exits 4, 5 or 1 when a target cannot be read, by the reason)

Environment:
  FERRY_CONFIG_FILE, FERRY_CONFIG   the configuration (when --config is not given)
  AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL[_<SERVICE>]   the SDK's standard settings
  FERRY_S3_FORCE_PATH_STYLE=true    path-style S3 addressing (local endpoints)
  FERRY_DEBUG=1                     engine log lines and stack traces on stderr`;

/** A usage problem found after parsing (conflicting or missing options): exit 2, like a parse error. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit code for an error thrown by a command or returned in a result. */
export function exitCodeForError(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.Usage;
  const known = isFerryError(error) ? error : translateAwsError(error);
  return known ? exitCodeForErrorKind(known.kind) : ExitCode.Failed;
}

/** The exit code for a FerryError kind (undefined: an error ferry did not classify, 1). */
export function exitCodeForErrorKind(kind: ErrorKind | undefined): ExitCode {
  switch (kind) {
    case 'configuration':
      return ExitCode.Usage;
    case 'input':
    case 'artifact':
      return ExitCode.Rejected;
    case 'access':
      return ExitCode.AccessDenied;
    case 'conflict':
    case 'throttled':
    case 'timeout':
    case 'unavailable':
      return ExitCode.Transient;
    default:
      return ExitCode.Failed;
  }
}

/** One kind for many failures (every target failed the same way), else the generic failure. */
export function exitCodeForFailures(errors: readonly unknown[]): ExitCode {
  if (errors.length === 0) return ExitCode.Failed;
  const codes = new Set(errors.map(exitCodeForError));
  const [only] = codes;
  return codes.size === 1 && only !== undefined && only !== ExitCode.Usage ? only : ExitCode.Failed;
}

/** Writes a result as JSON: the only thing on stdout when --json is set. */
export function writeJson(io: CliIo, value: unknown): void {
  io.writeOut(`${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return serializeError(value);
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** A log-safe view of an error: FerryError's own fields, never a cause's raw payload. */
export function serializeError(error: unknown): Record<string, unknown> {
  const known = isFerryError(error) ? error : translateAwsError(error);
  if (known) return known.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}

export interface TableOptions {
  /** Fit every line into this many columns: the widest columns give way, their cells cut with '…'. */
  readonly maxWidth?: number;
  /** Styles a cell after layout (colour must not count towards widths); row -1 is the header. */
  readonly style?: (text: string, row: number, column: number) => string;
}

/** Renders rows as a plain, aligned table (header, then one line per row); empty cells show '-'. */
export function renderTable(
  headers: readonly string[],
  rows: readonly (readonly unknown[])[],
  options: TableOptions = {},
): string {
  const cells = rows.map((row) => headers.map((_, i) => formatCell(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => [...(row[i] ?? '')].length)));
  if (options.maxWidth !== undefined) fitWidths(widths, options.maxWidth);
  const line = (row: readonly string[], r: number) =>
    row
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        const cut = [...cell].length > width ? truncateCell(cell, width) : cell;
        const padded = i === row.length - 1 ? cut : cut.padEnd(width);
        return options.style ? options.style(padded, r, i) : padded;
      })
      .join('  ')
      .trimEnd();
  return `${[line(headers, -1), ...cells.map((row, r) => line(row, r))].join('\n')}\n`;
}

const MIN_COLUMN_WIDTH = 6;

/** Narrows the widest column, one column at a time, until the line fits or nothing can give. */
function fitWidths(widths: number[], maxWidth: number): void {
  const total = () => widths.reduce((sum, w) => sum + w, 0) + 2 * Math.max(0, widths.length - 1);
  while (total() > maxWidth) {
    const widest = widths.reduce((best, w, i) => (w > (widths[best] ?? 0) ? i : best), 0);
    const current = widths[widest] ?? 0;
    if (current <= MIN_COLUMN_WIDTH) return;
    // Down to the next widest column at most, so the cuts spread over the wide columns.
    const next = Math.max(MIN_COLUMN_WIDTH, ...widths.filter((_, i) => i !== widest));
    const excess = total() - maxWidth;
    widths[widest] = Math.max(MIN_COLUMN_WIDTH, current - Math.max(1, Math.min(excess, current - next)));
  }
}

function truncateCell(text: string, width: number): string {
  const chars = [...text];
  return chars.length <= width ? text : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}

function formatCell(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** A human duration: 850ms, 4.2s, 3m12s, 5h03m, 2d04h. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** One stderr line per finished target, as the engine reports it (stdout stays clean for --json). */
export function createProgress(io: CliIo, stage?: string): (outcome: TargetOutcome) => void {
  return (outcome) => {
    const where = stage ? `${stage} ${outcome.target.id}` : outcome.target.id;
    const moved = outcome.previousVersion && outcome.previousVersion !== outcome.version;
    const version = outcome.version ? ` ${moved ? `v${outcome.previousVersion} → ` : ''}v${outcome.version}` : '';
    const reason = outcome.error ? `: ${describeShort(outcome.error)}` : '';
    io.writeErr(`${outcome.status.padEnd(9)} ${where}${version} (${formatDuration(outcome.durationMs)})${reason}\n`);
  };
}

/** An error as one line for people: the FerryError message says what to do. */
export function describeShort(error: unknown): string {
  const known = isFerryError(error) ? error : translateAwsError(error);
  if (known) return `${known.message} [${known.code}]`;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Prints a command's failure on stderr; the stack and cause chain only when FERRY_DEBUG=1. */
export function reportError(io: CliIo, error: unknown, debug: boolean): void {
  io.writeErr(`ferry: ${describeShort(error)}\n`);
  if (!debug) return;
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth++) {
    io.writeErr(`${current.stack ?? current.message}\n`);
    if (isFerryError(current) && Object.keys(current.context).length > 0) {
      io.writeErr(`context: ${JSON.stringify(current.context)}\n`);
    }
    current = current.cause;
    if (current instanceof Error) io.writeErr('caused by: ');
  }
}
