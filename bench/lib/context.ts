/** What every section gets: where things are, whether this is a smoke run, and a progress line. */
import { performance } from 'node:perf_hooks';

export interface BenchContext {
  readonly repoRoot: string;
  /** Scratch space for this run (zips, configs, child outputs); removed at the end. */
  readonly workDir: string;
  readonly smoke: boolean;
  progress(message: string): void;
}

export function createProgress(): (message: string) => void {
  const started = performance.now();
  return (message) => {
    const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${s}s] ${message}\n`);
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A deploy log like the Lambda's: every line serialized (that work is part of ferry's cost), then dropped. */
export function createSilentLog(): {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
  readonly errors: string[];
} {
  const errors: string[] = [];
  const write =
    (level: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      const line = JSON.stringify({ level, message, ...Object.assign({}, ...attributes) });
      if (level === 'error') errors.push(line);
    };
  return { info: write('info'), warn: write('warn'), error: write('error'), errors };
}
