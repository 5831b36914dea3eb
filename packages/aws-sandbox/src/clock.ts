import type { Clock } from './contracts.js';

/**
 * Real time plus an offset tests can move forward, so credential expiry and update delays are
 * driven without sleeping.
 */
export class SandboxClock implements Clock {
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }

  /** Moves sandbox time forward (never backward: AWS time does not go back). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the sandbox clock only moves forward');
    this.offsetMs += ms;
  }
}
