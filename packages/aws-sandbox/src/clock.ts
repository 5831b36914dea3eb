import type { Clock } from './contracts.js';

/**
 * The sandbox's time, which tests move forward so credential expiry, update delays, metrics and
 * alarms are driven without sleeping. By default real time plus that offset; started at a fixed
 * instant (`startAt`), it is virtual: it stands still until advanced, so a test that also gives
 * its own code this clock sees one time everywhere (a metric stamped by an Invoke falls in the
 * window the code under test queries).
 */
export class SandboxClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly startAt?: number) {}

  now(): number {
    return (this.startAt ?? Date.now()) + this.offsetMs;
  }

  /** Moves sandbox time forward (never backward: AWS time does not go back). */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the sandbox clock only moves forward');
    this.offsetMs += ms;
  }
}
