/**
 * Waves across accounts: a stage's targets ship in groups (for example one account, then a
 * quarter, then the rest), each group following the traffic policy, with bake time between them.
 * Pure.
 */

/** A wave's size: a number of targets, or a percentage of the stage's targets ("25%"). */
export type WaveSize = number | `${number}%`;

const PERCENT = /^(\d{1,3})%$/;

/** The problem with a size, or undefined when it is valid. */
export function checkWaveSize(size: WaveSize): string | undefined {
  if (typeof size === 'number') {
    return Number.isInteger(size) && size >= 1
      ? undefined
      : `${size}: a wave holds a whole number of targets, at least 1`;
  }
  const match = PERCENT.exec(size);
  const n = match ? Number(match[1]) : Number.NaN;
  return n >= 1 && n <= 100 ? undefined : `'${size}': expected a number of targets or a percentage from 1% to 100%`;
}

/**
 * Splits target ids into waves, in configuration order. Each size takes that many of the targets
 * (a percentage of all of them, rounded up, at least one); whatever is left forms the last wave.
 * Waves never come out empty, and every target is in exactly one wave.
 */
export function planWaves(targetIds: readonly string[], sizes: readonly WaveSize[]): string[][] {
  const waves: string[][] = [];
  let next = 0;
  for (const size of sizes) {
    if (next >= targetIds.length) break;
    const count =
      typeof size === 'number' ? size : Math.max(1, Math.ceil((targetIds.length * Number.parseInt(size, 10)) / 100));
    waves.push(targetIds.slice(next, next + count));
    next += count;
  }
  if (next < targetIds.length) waves.push(targetIds.slice(next));
  return waves;
}
