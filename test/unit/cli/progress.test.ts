import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/output.js';
import { startProgress } from '../../../src/cli/progress.js';
import type { TargetOutcome } from '../../../src/engine/deploy-stage.js';

const A = '222222222222/eu-west-1/orders-api:live';
const B = '333333333333/eu-west-1/orders-api:live';

function capture(tty: boolean): CliIo & { err: () => string } {
  let err = '';
  return {
    writeOut: () => {},
    writeErr: (t) => {
      err += t;
    },
    stderrIsTTY: tty,
    err: () => err,
  };
}

const outcome = (id: string, extra: Partial<TargetOutcome> = {}) =>
  ({
    target: { id },
    status: 'deployed',
    previousVersion: '1',
    version: '2',
    durationMs: 640,
    ...extra,
  }) as TargetOutcome;

describe('progress', () => {
  it('on a terminal, redraws one line per target with its state and elapsed time, then erases them', () => {
    const io = capture(true);
    let t = 1_000;
    const progress = startProgress(io, { NO_COLOR: '1' }, 'dev', [{ id: A }, { id: B }], {
      now: () => t,
      intervalMs: 1e9,
    });
    t += 1_500;
    progress.onTargetDone(outcome(A));
    progress.stop();
    const err = io.err();
    expect(err).toContain(`\u001b[2K⠋ dev ${A}  deploying  0ms\n`);
    expect(err).toContain(
      `\u001b[2A\u001b[2K✔ dev ${A}  deployed v1 → v2  640ms\n\u001b[2K⠙ dev ${B}  deploying  1.5s\n`,
    );
    expect(err.endsWith('\u001b[2A\u001b[0J')).toBe(true);
  });

  it('colours the marks only when colour is allowed (NO_COLOR wins)', () => {
    const io = capture(true);
    const progress = startProgress(io, { FORCE_COLOR: '1' }, 'dev', [{ id: A }], { intervalMs: 1e9 });
    progress.onTargetDone(outcome(A, { status: 'failed', error: new Error('boom') }));
    progress.stop();
    expect(io.err()).toContain('\u001b[31m✘\u001b[39m');
    const plain = capture(true);
    const quiet = startProgress(plain, { FORCE_COLOR: '1', NO_COLOR: '1' }, 'dev', [{ id: A }], { intervalMs: 1e9 });
    quiet.onTargetDone(outcome(A));
    quiet.stop();
    expect(plain.err()).not.toContain('\u001b[32m');
  });

  it.each([
    ['in CI', true, { CI: 'true' }, {}],
    ['with --json', true, {}, { json: true }],
    ['when stderr is not a terminal', false, {}, {}],
  ])('%s, prints one plain line per finished target', (_when, tty, env, options) => {
    const io = capture(tty);
    const progress = startProgress(io, env, 'dev', [{ id: A }], options);
    progress.onTargetDone(outcome(A));
    progress.stop();
    expect(io.err()).toBe(`deployed  dev ${A} v1 → v2 (640ms)\n`);
  });

  it('summarises many targets in one live line', () => {
    const io = capture(true);
    const many = Array.from({ length: 40 }, (_, i) => ({ id: `t${i}` }));
    const progress = startProgress(io, {}, 'prod', many, { now: () => 0, intervalMs: 1e9 });
    progress.onTargetDone(outcome('t3', { status: 'failed' }));
    progress.stop();
    expect(io.err()).toContain('prod: 1/40 targets done, \u001b[31m1 failed\u001b[39m');
  });
});
