/**
 * Reads ripgrep's `--json` output: one JSON message a line, of which `match` messages carry the
 * file, the line and the matches' UTF-8 byte offsets. Turned into matches with VS Code's UTF-16
 * columns. Pure: no `vscode`, so the node unit tests run it as is.
 */
import type { SearchMatch } from '../../protocol';

/** The longest line text a match carries (the wire allows 1000). */
export const PREVIEW_CHARS = 1000;

interface RipgrepText {
  text?: string;
  bytes?: string;
}

interface RipgrepMatchMessage {
  type: 'match';
  data: {
    path: RipgrepText;
    lines: RipgrepText;
    line_number?: number;
    submatches: Array<{ start: number; end: number }>;
  };
}

/**
 * The matches of one output line; none for other messages, for files that are not in `allowed`
 * (only the files it was asked about may come back), and for lines that are not UTF-8.
 */
export function matchesOfLine(line: string, allowed: ReadonlySet<string>): SearchMatch[] {
  let message: unknown;
  try {
    message = JSON.parse(line);
  } catch {
    return [];
  }
  if (!isMatch(message)) return [];
  const { path, lines, line_number: lineNumber, submatches } = message.data;
  if (path.text === undefined || !allowed.has(path.text) || lines.text === undefined || lineNumber === undefined) return [];
  const text = lines.text.replace(/\r?\n$/, '');
  const bytes = Buffer.from(text, 'utf8');
  const column = (byteOffset: number) => bytes.subarray(0, Math.min(byteOffset, bytes.length)).toString('utf8').length;
  const preview = text.length > PREVIEW_CHARS ? text.slice(0, PREVIEW_CHARS) : text;
  return submatches.map(({ start, end }) => {
    const character = column(start);
    return { path: path.text!, line: lineNumber - 1, character, length: column(end) - character, preview };
  });
}

function isMatch(message: unknown): message is RipgrepMatchMessage {
  if (typeof message !== 'object' || message === null || (message as { type?: unknown }).type !== 'match') return false;
  const data = (message as { data?: unknown }).data as RipgrepMatchMessage['data'] | undefined;
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof data.path === 'object' &&
    typeof data.lines === 'object' &&
    Array.isArray(data.submatches) &&
    data.submatches.every((s) => Number.isInteger(s?.start) && Number.isInteger(s?.end) && s.start >= 0 && s.end >= s.start)
  );
}
