/**
 * The sequential round trips on a process's critical path, from the HTTP requests it made
 * (bench/children/trace-requests.mjs): the longest chain of requests each sent only after the
 * previous one was answered. Requests sent together (overlapping) count once.
 */

export interface RoundTrip {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface CriticalPath {
  /** All requests the process made. */
  readonly requests: number;
  /** The longest chain of requests that did not overlap: the round trips it waited for in turn. */
  readonly sequential: number;
  /** The chain, as `service METHOD`. */
  readonly chain: readonly string[];
  /** Time with at least one request in flight. */
  readonly inFlightMs: number;
}

export function analyzeCriticalPath(trips: readonly RoundTrip[]): CriticalPath {
  // Earliest-ending first gives the largest set of pairwise non-overlapping intervals.
  const byEnd = [...trips].sort((a, b) => a.endMs - b.endMs);
  const chain: RoundTrip[] = [];
  for (const trip of byEnd) {
    const last = chain.at(-1);
    if (last === undefined || trip.startMs >= last.endMs) chain.push(trip);
  }
  const byStart = [...trips].sort((a, b) => a.startMs - b.startMs);
  let inFlightMs = 0;
  let openStart = Number.NaN;
  let openEnd = Number.NEGATIVE_INFINITY;
  for (const trip of byStart) {
    if (trip.startMs > openEnd) {
      if (Number.isFinite(openEnd)) inFlightMs += openEnd - openStart;
      openStart = trip.startMs;
      openEnd = trip.endMs;
    } else openEnd = Math.max(openEnd, trip.endMs);
  }
  if (Number.isFinite(openEnd)) inFlightMs += openEnd - openStart;
  return {
    requests: trips.length,
    sequential: chain.length,
    chain: chain.map((t) => `${t.service} ${t.method} ${t.path}`),
    inFlightMs,
  };
}
