/** The order of paths in a file tree (pure, so that it is unit-tested without VS Code). */

/**
 * Segment by segment, case-insensitively with numbers by value (`file2` before `file10`), an
 * exact comparison only to break a tie; a folder's own path before what is inside it.
 */
export function comparePaths(a: string, b: string): number {
  const left = a.split('/');
  const right = b.split('/');
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const order = compareSegments(left[i]!, right[i]!);
    if (order !== 0) return order;
  }
  return left.length - right.length;
}

function compareSegments(a: string, b: string): number {
  const loose = a.localeCompare(b, 'en', { sensitivity: 'base', numeric: true });
  if (loose !== 0) return loose;
  return a < b ? -1 : a > b ? 1 : 0;
}
