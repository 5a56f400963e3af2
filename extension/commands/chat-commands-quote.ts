/** Send Selection to Chat's quote, apart from `vscode` so that it is unit-tested. */
export interface QuotedSelection {
  text: string;
  /** The shared document's id (workspace-relative), else the path relative to the workspace. */
  file: string;
  language: string;
  lineStart: number;
  lineEnd: number;
}

/** The selection as a Markdown quote: `file:start-end` (a link for the others) and a fenced block. */
export function quoteSelection(quoted: QuotedSelection): string {
  const longestFence = Math.max(2, ...[...quoted.text.matchAll(/`{3,}/gu)].map((m) => m[0].length));
  const fence = '`'.repeat(longestFence + 1);
  const lines = quoted.lineStart === quoted.lineEnd ? `${quoted.lineStart}` : `${quoted.lineStart}-${quoted.lineEnd}`;
  return `${quoted.file}:${lines}\n${fence}${quoted.language}\n${quoted.text.replace(/\n$/u, '')}\n${fence}`;
}
