/**
 * The Shared Search Results view: Find in Shared Folder's matches, grouped by file, growing as
 * the host's pieces arrive. Files are listed by path and matches by position, as VS Code's own
 * Search view does, so the list does not depend on the order the host's search found them in.
 * Clicking a match opens the `tandem:` file with the match selected.
 */
import * as vscode from 'vscode';
import type { SearchMatch } from '../../protocol';
import { comparePaths } from './path-order';

export const SEARCH_RESULTS_VIEW_ID = 'tandem.searchResults';

type Node = { kind: 'file'; path: string } | { kind: 'match'; match: SearchMatch };

export class SearchResults implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly byFile = new Map<string, SearchMatch[]>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  constructor(private readonly uriOf: (path: string) => vscode.Uri | undefined) {}

  /** Every match shown, in the view's order. */
  get matches(): SearchMatch[] {
    return this.paths().flatMap((path) => this.byFile.get(path) ?? []);
  }

  /** How many files have a match. */
  get fileCount(): number {
    return this.byFile.size;
  }

  clear(): void {
    this.byFile.clear();
    this.changed.fire();
  }

  add(matches: readonly SearchMatch[]): void {
    for (const match of matches) {
      const list = this.byFile.get(match.path) ?? [];
      list.push(match);
      this.byFile.set(match.path, list);
    }
    for (const path of new Set(matches.map((match) => match.path))) this.byFile.get(path)?.sort(byPosition);
    this.changed.fire();
  }

  private paths(): string[] {
    return [...this.byFile.keys()].sort(comparePaths);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.paths().map((path) => ({ kind: 'file', path }));
    if (node.kind === 'file') return (this.byFile.get(node.path) ?? []).map((match) => ({ kind: 'match', match }));
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'file') {
      const item = new vscode.TreeItem(node.path, vscode.TreeItemCollapsibleState.Expanded);
      const uri = this.uriOf(node.path);
      if (uri) item.resourceUri = uri;
      item.description = `${this.byFile.get(node.path)?.length ?? 0}`;
      return item;
    }
    const { match } = node;
    const item = new vscode.TreeItem({ label: match.preview.trim(), highlights: highlightOf(match) });
    item.description = `${match.line + 1}:${match.character + 1}`;
    item.command = { command: 'vscode.open', title: 'Open', arguments: [this.uriOf(match.path), { selection: rangeOf(match) }] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

const byPosition = (a: SearchMatch, b: SearchMatch) => a.line - b.line || a.character - b.character;

export function rangeOf(match: SearchMatch): vscode.Range {
  return new vscode.Range(match.line, match.character, match.line, match.character + match.length);
}

/** The match within the trimmed preview the label shows. */
function highlightOf(match: SearchMatch): Array<[number, number]> {
  const indent = match.preview.length - match.preview.trimStart().length;
  const start = match.character - indent;
  return start >= 0 && match.character + match.length <= match.preview.length ? [[start, start + match.length]] : [];
}
