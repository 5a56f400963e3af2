/**
 * Glob patterns as in VS Code settings (`files.exclude`): `*` and `?` within one name, `**` for
 * any number of folders, `{a,b}` alternatives, `[abc]` / `[!abc]` classes. Matched against a
 * path relative to the shared folder. Two deliberate differences, both towards sharing less:
 * a pattern without `/` matches the name at any depth (as in `.gitignore`: `*.pem` is every
 * `.pem`), and case is ignored (on a case-insensitive disk `.ENV` is `.env`).
 *
 * Patterns and paths are both brought to one form first (`foldName`): NFC, then case folded. A
 * case-insensitive disk (APFS, NTFS) takes `secret.\u212Aey` (KELVIN SIGN) or a decomposed `é`
 * for the very file a pattern names, so matching the raw text would let such a name slip past.
 */

/**
 * One form for names that a case-insensitive, normalisation-insensitive disk treats as one: NFC
 * (KELVIN SIGN becomes `K`, a decomposed `e\u0301` becomes `é`), then each character upper- then
 * lower-cased, which folds what lower case alone leaves apart (`ſ` and `s`). A character whose
 * folding would change its length (`ß` to `ss`) is only lower-cased, so that `?` still matches it.
 */
export function foldName(text: string): string {
  let out = '';
  for (const char of text.normalize('NFC')) {
    const folded = char.toUpperCase().toLowerCase();
    const lower = char.toLowerCase();
    out += folded.length === char.length ? folded : lower.length === char.length ? lower : char;
  }
  return out;
}

/** Compiles one pattern; undefined for an empty one. */
export function globToRegExp(pattern: string): RegExp | undefined {
  const compile = (text: string) => {
    let glob = text.trim().replace(/\\/g, '/').replace(/^\.\//, '').replace(/^\/+/, '').replace(/\/+$/, '');
    if (glob === '') return undefined;
    if (!glob.includes('/')) glob = `**/${glob}`;
    return new RegExp(`^${translate(glob)}$`, 'i');
  };
  try {
    return compile(foldName(pattern));
  } catch {
    // Folding turned a class range around (`[Z-a]` to `[z-a]`): the pattern as written, then.
    return compile(pattern);
  }
}

/** True if any of the compiled patterns matches `path`. */
export function matchesAny(patterns: readonly RegExp[], path: string): boolean {
  const folded = foldName(path);
  return patterns.some((pattern) => pattern.test(folded));
}

const SPECIAL = new Set(['.', '+', '^', '$', '(', ')', '|', '{', '}', '[', ']', '\\', '/', '*', '?']);

function escape(char: string): string {
  return SPECIAL.has(char) ? `\\${char}` : char;
}

function translate(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const char = glob[i]!;
    if (char === '*' && glob[i + 1] === '*') {
      const atStart = i === 0 || glob[i - 1] === '/';
      const atEnd = i + 2 === glob.length || glob[i + 2] === '/';
      if (atStart && atEnd) {
        // A whole `**` segment: any number of names, none included.
        if (i + 2 === glob.length) {
          out = out.endsWith('\\/') ? `${out.slice(0, -2)}(?:\\/.*)?` : `${out}.*`;
          i += 2;
        } else {
          out += '(?:.*\\/)?';
          i += 3;
        }
        continue;
      }
      out += '[^/]*';
      i += 2;
    } else if (char === '*') {
      out += '[^/]*';
      i++;
    } else if (char === '?') {
      out += '[^/]';
      i++;
    } else if (char === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        i++;
        continue;
      }
      let body = glob.slice(i + 1, end);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      body = body.replace(/[\\\]^]/g, (c) => `\\${c}`);
      out += negated ? `[^/${body}]` : `[${body}]`;
      i = end + 1;
    } else if (char === '{') {
      const end = closingBrace(glob, i);
      if (end < 0) {
        out += '\\{';
        i++;
        continue;
      }
      out += `(?:${splitAlternatives(glob.slice(i + 1, end))
        .map(translate)
        .join('|')})`;
      i = end + 1;
    } else {
      out += escape(char);
      i++;
    }
  }
  return out;
}

function closingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i++) {
    if (glob[i] === '{') depth++;
    else if (glob[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

/** `a,{b,c},d` -> `['a', '{b,c}', 'd']` (commas of nested braces stay). */
function splitAlternatives(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '{') depth++;
    else if (body[i] === '}') depth--;
    else if (body[i] === ',' && depth === 0) {
      out.push(body.slice(start, i));
      start = i + 1;
    }
  }
  out.push(body.slice(start));
  return out;
}
