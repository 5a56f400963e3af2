/**
 * The host's folder in the guest's Explorer: a workspace folder `tandem://<session-id>/`.
 *
 * Adding a folder restarts VS Code's extensions unless the window already is a multi-root
 * workspace (the first folder changes, or a single-folder window becomes an untitled workspace; in
 * the browser the page reloads). So: in a multi-root window the folder is added at once, after
 * the others; otherwise the guest is asked first, and the session is resumed after the restart
 * (`GuestResume`). Removing works the same way round.
 */
import * as vscode from 'vscode';
import { SHARED_SCHEME, sharedFolderUri } from './shared-fs';
import { workspaceFileName } from './tandem-workspace-file';

export function sharedFolderIndex(sessionId: string): number {
  return (vscode.workspace.workspaceFolders ?? []).findIndex((f) => f.uri.scheme === SHARED_SCHEME && f.uri.authority === sessionId);
}

/** The sessions whose shared folder this window shows (after a restart: the ones to resume). */
export function sharedFoldersShown(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === SHARED_SCHEME).map((f) => f.uri.authority);
}

/** Adding or removing this folder restarts the extensions (see above). */
function restarts(index: number): boolean {
  return vscode.workspace.workspaceFile === undefined || index === 0;
}

/**
 * Shows the folder. Resolves `added` when it is (or already was) in the workspace, `restarting`
 * when adding it restarts the extensions (keep what must survive first: `beforeRestart`), and
 * `declined` when the guest said no. `workspaces`: a folder of the extension's own where a window
 * with a folder gets the workspace file it reopens as (see below).
 */
export async function showSharedFolder(
  sessionId: string,
  name: string,
  beforeRestart: () => Promise<void>,
  workspaces: vscode.Uri,
): Promise<'added' | 'restarting' | 'declined'> {
  if (sharedFolderIndex(sessionId) >= 0) return 'added';
  const index = vscode.workspace.workspaceFolders?.length ?? 0;
  const folder = { uri: sharedFolderUri(sessionId), name };
  if (!restarts(index)) return vscode.workspace.updateWorkspaceFolders(index, 0, folder) ? 'added' : 'declined';
  const empty = index === 0 && vscode.workspace.workspaceFile === undefined;
  const choice = await vscode.window.showInformationMessage(
    empty
      ? `Tandem: open the host's folder "${name}" in this window? The session resumes by itself.`
      : `Tandem: show the host's folder "${name}" in the Explorer? VS Code reloads the window to add it; the session resumes by itself.`,
    'Show in Explorer',
  );
  // The session may have ended while the question was open.
  if (choice !== 'Show in Explorer' || sharedFolderIndex(sessionId) >= 0) return 'declined';
  await beforeRestart();
  if (empty) {
    // The host's folder becomes this window's folder: no workspace to make.
    await vscode.commands.executeCommand('vscode.openFolder', folder.uri, { forceReuseWindow: true });
    return 'restarting';
  }
  // Not `updateWorkspaceFolders`: in a single-folder window it makes an untitled workspace, and
  // code-server (4.100.3) now and then reloaded into it showing "no folder opened" (5 of 14 runs),
  // so there was no shared folder to resume the session from; most likely the page read that
  // workspace's file before it was written. A file written here, completely, before the window
  // reopens as it, cannot be read half-made.
  const file = vscode.Uri.joinPath(workspaces, workspaceFileName(sessionId));
  // A local folder by its path: the workspace file's own scheme and authority apply to it (a
  // `file:` URI would mean the browser's side in a remote window); other schemes by URI.
  const entry = (f: { name: string; uri: vscode.Uri }) =>
    f.uri.scheme === 'file' ? { name: f.name, path: f.uri.fsPath } : { name: f.name, uri: f.uri.toString() };
  const folders = [...(vscode.workspace.workspaceFolders ?? []).map(entry), entry(folder)];
  await vscode.workspace.fs.createDirectory(workspaces);
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(`${JSON.stringify({ folders, settings: {} }, null, 2)}\n`));
  await vscode.commands.executeCommand('vscode.openFolder', file, { forceReuseWindow: true });
  return 'restarting';
}

/** Takes the folder out of the workspace, asking first when that restarts the extensions. */
export async function removeSharedFolder(sessionId: string, reason: string): Promise<void> {
  const index = sharedFolderIndex(sessionId);
  if (index < 0) return;
  if (restarts(index)) {
    const name = vscode.workspace.workspaceFolders?.[index]?.name ?? sessionId;
    const choice = await vscode.window.showInformationMessage(`Tandem: ${reason}. Remove "${name}" from the workspace?`, 'Remove Folder');
    if (choice !== 'Remove Folder') return;
  }
  const now = sharedFolderIndex(sessionId);
  if (now >= 0) vscode.workspace.updateWorkspaceFolders(now, 1);
}
