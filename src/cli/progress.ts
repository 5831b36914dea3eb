/**
 * Progress while a command deploys. On a terminal (stderr a TTY, not CI, not --json): one live
 * line per target, redrawn in place with its state and elapsed time, and erased when the work
 * ends, so the results print once (on stdout). Anywhere else: one line per finished target on
 * stderr, as CI logs expect.
 */
import type { Target } from '../core/config.js';
import type { TargetOutcome } from '../engine/deploy-stage.js';
import { type CliIo, createProgress, describeShort, formatDuration } from './output.js';
import { detectTerminal, paint, type Terminal, truncate } from './terminal.js';

export interface Progress {
  readonly onTargetDone: (outcome: TargetOutcome) => void;
  /** Ends the live display (erasing it); idempotent. */
  stop(): void;
}

export interface ProgressOptions {
  readonly json?: boolean;
  readonly now?: () => number;
  /** Redraw period of the live display. */
  readonly intervalMs?: number;
}

/** Live lines beyond this many targets would scroll: a summary line replaces them. */
const MAX_LIVE_LINES = 15;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function startProgress(
  io: CliIo,
  env: NodeJS.ProcessEnv,
  stage: string,
  targets: readonly Pick<Target, 'id'>[],
  options: ProgressOptions = {},
): Progress {
  const term = detectTerminal({ ...io, stdoutIsTTY: io.stderrIsTTY === true }, env, options);
  if (!term.live || targets.length === 0) {
    return { onTargetDone: createProgress(io, stage), stop() {} };
  }
  return startLive(io, term, stage, targets, options);
}

function startLive(
  io: CliIo,
  term: Terminal,
  stage: string,
  targets: readonly Pick<Target, 'id'>[],
  options: ProgressOptions,
): Progress {
  const now = options.now ?? Date.now;
  const started = now();
  const done = new Map<string, TargetOutcome>();
  let drawn = 0;
  let frame = 0;
  let stopped = false;

  const lineFor = (id: string): string => {
    const outcome = done.get(id);
    if (!outcome) {
      const spinner = SPINNER[frame % SPINNER.length] ?? '-';
      return `${spinner} ${stage} ${id}  ${paint(term, 'dim', 'deploying')}  ${formatDuration(now() - started)}`;
    }
    const failed = outcome.status === 'failed';
    const mark = failed ? paint(term, 'red', '✘') : paint(term, 'green', '✔');
    const moved = outcome.previousVersion && outcome.previousVersion !== outcome.version;
    const version = outcome.version ? ` ${moved ? `v${outcome.previousVersion} → ` : ''}v${outcome.version}` : '';
    const reason = outcome.error ? `: ${describeShort(outcome.error)}` : '';
    return `${mark} ${stage} ${id}  ${outcome.status}${version}  ${formatDuration(outcome.durationMs)}${reason}`;
  };
  const summary = (): string => {
    const failed = [...done.values()].filter((o) => o.status === 'failed').length;
    const spinner = SPINNER[frame % SPINNER.length] ?? '-';
    return `${spinner} ${stage}: ${done.size}/${targets.length} targets done${failed > 0 ? `, ${paint(term, 'red', `${failed} failed`)}` : ''}  ${formatDuration(now() - started)}`;
  };
  const fitLine = (line: string) => (term.width === undefined ? line : truncate(line, Math.max(10, term.width - 1)));
  const draw = () => {
    if (stopped) return;
    const lines = targets.length > MAX_LIVE_LINES ? [summary()] : targets.map((t) => lineFor(t.id));
    const up = drawn > 0 ? `\u001b[${drawn}A` : '';
    io.writeErr(`${up}${lines.map((l) => `\u001b[2K${fitLine(l)}\n`).join('')}`);
    drawn = lines.length;
    frame++;
  };
  draw();
  const timer = setInterval(draw, options.intervalMs ?? 100);
  timer.unref?.();
  return {
    onTargetDone(outcome) {
      done.set(outcome.target.id, outcome);
      draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      // Erase the live block: the command's result says what happened, once.
      if (drawn > 0) io.writeErr(`\u001b[${drawn}A\u001b[0J`);
      drawn = 0;
    },
  };
}
