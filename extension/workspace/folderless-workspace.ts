/**
 * A guest window that reopened as the workspace Tandem wrote for it (`showSharedFolder`) but came
 * up with no folder at all: "NO FOLDER OPENED" under the workspace's name, though its file lists
 * the guest's folders and the host's. code-server (4.100.3) does this now and then (about one run
 * in ten of the debugging e2e on a busy machine), and the page stays so: nothing to resume the
 * session from. A reload reads the file again and comes up whole, so the window reloads itself,
 * at most `MAX_RELOADS` times in `RELOAD_WINDOW_MS` (a file that really lists no folder, or one
 * the workbench cannot open, is left alone), after a short wait in case the folders are only late.
 */
import * as vscode from 'vscode';
import type { Log } from '../log';
import { listedFolders, recentTimes, tandemWorkspaceSession } from './tandem-workspace-file';

const MAX_RELOADS = 3;
const RELOAD_WINDOW_MS = 5 * 60_000;
/** How long the folders may take to show up before the window counts as folderless. */
const GRACE_MS = 2_000;
const reloadsKey = (file: string) => `tandem.folderlessReloads.${file}`;

/**
 * Checks this window once, at activation: if it is a Tandem workspace showing no folder while its
 * file lists some, it reloads (once `GRACE_MS` passed with no folder). Resolves with what it found.
 */
export async function recoverFolderlessWorkspace(
  context: Pick<vscode.ExtensionContext, 'globalStorageUri' | 'secrets'>,
  log: Log,
): Promise<'not-ours' | 'has-folders' | 'lists-none' | 'gave-up' | 'reloaded'> {
  const workspaceFile = vscode.workspace.workspaceFile;
  const sessionId = tandemWorkspaceSession(workspaceFile?.path, vscode.Uri.joinPath(context.globalStorageUri, 'workspaces').path);
  if (!workspaceFile || sessionId === undefined) return 'not-ours';
  const shown = () => (vscode.workspace.workspaceFolders?.length ?? 0) > 0;
  if (!shown()) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, GRACE_MS);
      const listener = vscode.workspace.onDidChangeWorkspaceFolders(done);
      function done() {
        clearTimeout(timer);
        listener.dispose();
        resolve();
      }
    });
  }
  if (shown()) {
    log.info(`this window is session ${sessionId}'s workspace, with ${vscode.workspace.workspaceFolders?.length} folders`);
    return 'has-folders';
  }
  const text = await Promise.resolve(vscode.workspace.fs.readFile(workspaceFile)).then(
    (bytes) => new TextDecoder().decode(bytes),
    () => '',
  );
  const listed = listedFolders(text);
  if (listed === 0) return 'lists-none';
  const now = Date.now();
  const key = reloadsKey(workspaceFile.path);
  const reloads = recentTimes(await context.secrets.get(key), now, RELOAD_WINDOW_MS);
  const what = `this window reopened as session ${sessionId}'s workspace without its ${listed} folders`;
  if (reloads.length >= MAX_RELOADS) {
    log.warn(`${what}, ${reloads.length} times lately: not reloading again`);
    return 'gave-up';
  }
  log.warn(`${what} (code-server): reloading it`);
  await context.secrets.store(key, JSON.stringify([...reloads, now]));
  await vscode.commands.executeCommand('workbench.action.reloadWindow');
  return 'reloaded';
}
