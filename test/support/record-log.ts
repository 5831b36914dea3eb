/** A DeployLog that keeps every line, so tests can assert what ferry logged (and what it never logs). */
import type { DeployLog } from '../../src/engine/deploy-build.js';

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

export function recordLog(): DeployLog & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const push =
    (level: LogLine['level']) =>
    (message: string, ...attributes: Record<string, unknown>[]) =>
      lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
  return { lines, info: push('info'), warn: push('warn'), error: push('error') };
}
