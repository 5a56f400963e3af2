/**
 * `path:line` references in chat text (`src/app.ts:12`, `src/app.ts:12-20`, `./lib/x.py:3:7`): a
 * relative path with at least one `.ext` file name, then a line. No `vscode` import: unit-tested.
 */
export interface PathRef {
  /** Workspace-relative, `/`-separated, without a leading `./`. */
  path: string;
  line: number;
  endLine?: number;
  /** Where it is in the text. */
  start: number;
  end: number;
}

// A path segment: letters, digits, `_ . -` (no spaces, no `:`); the file name needs an extension.
// Not after a `/`, `:` or word character, so URLs (`https://x.dev/a.ts:1`) and absolute paths are left alone.
const PATH_REF = /(?<![\w/:.@-])(?:\.\/)?((?:[\w-][\w.-]*\/)*[\w-][\w.-]*\.[A-Za-z0-9]{1,10}):(\d{1,7})(?:-(\d{1,7})|:\d{1,4})?(?![\w/])/gu;

/** Every `path:line` reference in `text`, in order. Paths with `..` segments are not references. */
export function findPathRefs(text: string): PathRef[] {
  const refs: PathRef[] = [];
  for (const match of text.matchAll(PATH_REF)) {
    const path = match[1]!;
    if (path.split('/').some((segment) => segment === '..' || segment === '.')) continue;
    const line = Number(match[2]);
    if (line < 1) continue;
    const endLine = match[3] === undefined ? undefined : Number(match[3]);
    refs.push({
      path,
      line,
      ...(endLine !== undefined && endLine >= line && { endLine }),
      start: match.index,
      end: match.index + match[0].length,
    });
  }
  return refs;
}
