/**
 * A comma-separated list of globs as one types it in a box (`src/**, !**\/*.test.ts`): those with
 * a leading `!` exclude, the others include. Pure, for the node unit tests.
 */
export function parseGlobList(text: string): { include: string[]; exclude: string[] } {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const part of text.split(',')) {
    const glob = part.trim();
    if (glob === '' || glob === '!') continue;
    if (glob.startsWith('!')) exclude.push(glob.slice(1).trim());
    else include.push(glob);
  }
  return { include: include.slice(0, 20), exclude: exclude.slice(0, 20) };
}
