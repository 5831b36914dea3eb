/**
 * Child processes of the benchmark: every one is bounded in time and killed when the benchmark
 * exits, however it exits, so nothing keeps running after a run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills every child still running (SIGTERM, then SIGKILL shortly after for the stubborn). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const hard = setTimeout(() => child.kill('SIGKILL'), 2_000);
    hard.unref();
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAllChildren();
      process.exitCode = 130;
      setTimeout(() => process.exit(130), 500).unref();
    });
  }
}

/** Spawns a tracked child; it is killed when the benchmark exits. */
export function spawnTracked(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: 'pipe' | 'ignore' } = {},
): ChildProcess {
  hookExit();
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit. */
  readonly ms: number;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Killed after this long; the result then carries signal SIGKILL. */
  readonly timeoutMs: number;
  /**
   * Scheduling niceness of the child (os.setPriority, 0..19): above 0 it yields the CPU to
   * processes at 0, such as the sandbox playing AWS, which in AWS does not share ferry's CPU.
   */
  readonly nice?: number;
}

/** Runs a command to completion (bounded by timeoutMs) and measures its wall time. */
export function runProcess(command: string, args: readonly string[], options: RunOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawnTracked(command, args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    if (options.nice !== undefined && child.pid !== undefined) {
      try {
        setPriority(child.pid, options.nice);
      } catch {
        // Not permitted here: the child keeps the default priority.
      }
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - started,
      });
    });
  });
}

/** Like runProcess, but a non-zero exit or a timeout is an error naming the command and its stderr. */
export async function runChecked(
  command: string,
  args: readonly string[],
  options: RunOptions,
): Promise<ProcessResult> {
  const result = await runProcess(command, args, options);
  if (result.code !== 0) {
    const how = result.signal
      ? `was killed (${result.signal}, limit ${options.timeoutMs} ms)`
      : `exited ${result.code}`;
    throw new Error(`${[command, ...args].join(' ')} ${how}:\n${tail(result.stderr || result.stdout)}`);
  }
  return result;
}

export function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
