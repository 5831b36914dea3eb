/**
 * What every command shares for output: where text goes (injected, so tests capture it), exit
 * codes by failure kind, `--json` rendering, plain aligned tables, one progress line per finished
 * target, and error reporting that never shows a stack trace unless FERRY_DEBUG=1.
 */
import { isFerryError } from '../core/errors.js';
import type { TargetOutcome } from '../engine/deploy-stage.js';

/** Where a command writes: stdout carries the result, stderr progress and errors. */
export interface CliIo {
  writeOut(text: string): void;
  writeErr(text: string): void;
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
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const EXIT_CODE_HELP = `Exit codes:
  0  ok (dry runs too)
  1  a deployment, promotion or rollback failed
  2  usage or configuration error (nothing was attempted)
  3  input rejected: bad artifact, unknown app, stage or target, build out of order
  4  access denied (role assumption, bucket, permissions)
  5  conflict, throttling or timeout: retrying later may succeed

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
  if (!isFerryError(error)) return ExitCode.Failed;
  switch (error.kind) {
    case 'configuration':
      return ExitCode.Usage;
    case 'input':
    case 'artifact':
    case 'order':
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
  if (isFerryError(error)) return error.toJSON();
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { message: String(error) };
}

/** Renders rows as a plain, aligned table (header, then one line per row); empty cells show '-'. */
export function renderTable(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => headers.map((_, i) => formatCell(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(headers), ...cells.map(line)].join('\n')}\n`;
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
  if (isFerryError(error)) return `${error.message} [${error.code}]`;
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
