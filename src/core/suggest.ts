/**
 * "Did you mean …?" for names a person typed: configuration keys, app and stage names, flags.
 * A candidate is offered when it is a close edit (Damerau-Levenshtein distance within a third of
 * the longer name, at least 1) or differs only in case or separators.
 */

/** The closest candidate to `input`, or undefined when none is close enough to be a likely typo. */
export function suggestName(input: string, candidates: Iterable<string>): string | undefined {
  const folded = fold(input);
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    if (name === input) continue;
    if (fold(name) === folded) return name;
    const distance = editDistance(input.toLowerCase(), name.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(input.length, name.length) / 3));
    if (distance <= allowed && (best === undefined || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

/** ` Did you mean 'x'?` (with a leading space), or '' when nothing is close. */
export function didYouMean(input: string, candidates: Iterable<string>, quote = "'"): string {
  const name = suggestName(input, candidates);
  return name === undefined ? '' : ` Did you mean ${quote}${name}${quote}?`;
}

function fold(name: string): string {
  return name.toLowerCase().replace(/[-_.\s]/g, '');
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number) => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      d[i * cols + j] = value;
    }
  }
  return at(a.length, b.length);
}
