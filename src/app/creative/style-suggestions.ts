/**
 * "Did you mean" for a style name nobody has: the known names closest to it by edit distance, and only those that
 * are close enough to be a plausible typo, so a wrong name gets two or three candidates rather than the whole list.
 */

/** Levenshtein distance (insert, delete, substitute, each 1), Wagner & Fischer 1974; two rows of the table. */
export function computeEditDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to `max` of `known` nearest to `value` (case ignored), nearest first; a name qualifies when at most a third of
 * the typed characters (at least 2) would have to change.
 */
export function suggestStyleNames(value: string, known: Iterable<string>, max = 3): string[] {
  const typed = value.trim().toLowerCase();
  const limit = Math.max(2, Math.floor(typed.length / 3));
  return [...known]
    .map((name) => ({ name, distance: computeEditDistance(typed, name.toLowerCase()) }))
    .filter((c) => c.distance <= limit)
    .sort((x, y) => x.distance - y.distance || x.name.localeCompare(y.name))
    .slice(0, max)
    .map((c) => c.name);
}
