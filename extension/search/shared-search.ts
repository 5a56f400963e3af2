/**
 * Go to Shared File and Find in Shared Folder, for a guest: both run on the host (its listing of
 * what it shares, its ripgrep), through the shared folder's requests. The quick pick filters the
 * host's list fuzzily as you type (VS Code's own matching); the search's matches fill the Shared
 * Search Results view piece by piece.
 */
import * as vscode from 'vscode';
import type { SearchQuery } from '../../protocol';
import type { WorkspaceSharing } from '../workspace/workspace-sharing';
import { SHARED_SCHEME } from '../workspace/shared-fs';
import { SEARCH_RESULTS_VIEW_ID, SearchResults } from './search-results';
import { parseGlobList } from './glob-list';

/** Find in Shared Folder's argument (from a keybinding or a test): no prompts then. */
export interface FindArgs {
  pattern: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** `src/**`, `!**\/*.test.ts`: a leading `!` excludes. */
  files?: string;
}

export class SharedSearch implements vscode.Disposable {
  readonly results: SearchResults;
  private readonly view: vscode.TreeView<unknown>;
  private readonly disposables: vscode.Disposable[];
  /** Go to Shared File's pick while it is open (tests fill in its value). */
  activePick: vscode.QuickPick<vscode.QuickPickItem & { path: string }> | undefined;

  constructor(
    private readonly sharing: WorkspaceSharing,
    private readonly sessionId: () => string | undefined,
  ) {
    this.results = new SearchResults((path) => this.uriOf(path));
    this.view = vscode.window.createTreeView(SEARCH_RESULTS_VIEW_ID, { treeDataProvider: this.results });
    this.disposables = [this.results, this.view];
  }

  private uriOf(path: string): vscode.Uri | undefined {
    const sessionId = this.sessionId();
    return sessionId === undefined ? undefined : vscode.Uri.from({ scheme: SHARED_SCHEME, authority: sessionId, path: `/${path}` });
  }

  private requests() {
    const requests = this.sharing.guestRequests;
    if (!requests) void vscode.window.showInformationMessage('Tandem: join a session to search the host’s shared folder.');
    return requests;
  }

  /** Resolves when the pick closes: with the file opened, or undefined. */
  async goToFile(): Promise<string | undefined> {
    const requests = this.requests();
    if (!requests) return undefined;
    const pick = vscode.window.createQuickPick<vscode.QuickPickItem & { path: string }>();
    pick.placeholder = 'Go to a file the host shares';
    pick.matchOnDescription = true;
    pick.busy = true;
    this.activePick = pick;
    const chosen = new Promise<string | undefined>((resolve) => {
      pick.onDidAccept(() => {
        resolve(pick.selectedItems[0]?.path);
        pick.hide();
      });
      pick.onDidHide(() => resolve(undefined));
    });
    pick.show();
    try {
      const { paths, incomplete } = await requests.findFiles('');
      pick.items = paths.map((path) => {
        const slash = path.lastIndexOf('/');
        return { label: path.slice(slash + 1), description: slash < 0 ? '' : path.slice(0, slash), path };
      });
      if (incomplete) pick.title = `The first ${paths.length} shared files`;
    } catch (error) {
      pick.hide();
      void vscode.window.showErrorMessage(`Tandem: could not list the shared files: ${(error as Error).message}`);
    } finally {
      pick.busy = false;
    }
    const path = await chosen;
    this.activePick = undefined;
    pick.dispose();
    const uri = path === undefined ? undefined : this.uriOf(path);
    if (uri) await vscode.window.showTextDocument(uri);
    return path;
  }

  /** Searches and fills the results view; resolves with how many matches when the host is done. */
  async find(args?: FindArgs): Promise<number | undefined> {
    const requests = this.requests();
    if (!requests) return undefined;
    const input = args ?? (await promptQuery());
    if (!input) return undefined;
    const { include, exclude } = parseGlobList(input.files ?? '');
    const query: SearchQuery = {
      pattern: input.pattern,
      regex: input.regex ?? false,
      case_sensitive: input.caseSensitive ?? false,
      ...(include.length > 0 && { include }),
      ...(exclude.length > 0 && { exclude }),
    };
    this.results.clear();
    this.view.message = `Searching for ${input.pattern}…`;
    void vscode.commands.executeCommand(`${SEARCH_RESULTS_VIEW_ID}.focus`);
    try {
      const { matches, incomplete } = await vscode.window.withProgress(
        { location: { viewId: SEARCH_RESULTS_VIEW_ID }, title: 'Searching the shared folder' },
        () => requests.search('', query, (piece) => this.results.add(piece)),
      );
      const files = this.results.fileCount;
      this.view.message =
        `${matches.length}${incomplete ? '+ (the first ones)' : ''} matches of ${input.pattern}` +
        ` in ${files} ${files === 1 ? 'file' : 'files'}`;
      return matches.length;
    } catch (error) {
      this.view.message = `The search failed: ${(error as Error).message}`;
      void vscode.window.showErrorMessage(`Tandem: the search failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  dispose(): void {
    this.activePick?.dispose();
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}

async function promptQuery(): Promise<FindArgs | undefined> {
  const pattern = await vscode.window.showInputBox({
    title: 'Find in Shared Folder',
    prompt: 'Text to find (start with / for a regular expression; /i at the end ignores case)',
  });
  if (!pattern) return undefined;
  const files = await vscode.window.showInputBox({
    title: 'Find in Shared Folder',
    prompt: 'Files to search, as globs separated by commas (a leading ! excludes); empty for all shared files',
    placeHolder: 'src/**, !**/*.test.ts',
  });
  if (files === undefined) return undefined;
  const regex = /^\/(.+)\/(i?)$/s.exec(pattern);
  return regex ? { pattern: regex[1]!, regex: true, caseSensitive: regex[2] !== 'i', files } : { pattern, caseSensitive: false, files };
}
