/**
 * The workspace files Tandem writes for a guest window that reopens with the host's folder
 * (`showSharedFolder`): `<extension's global storage>/workspaces/<session id>.code-workspace`.
 * Plain functions of paths and text, no VS Code API.
 */

export const workspaceFileName = (sessionId: string) => `${sessionId}.code-workspace`;

/** The session whose workspace file `filePath` is, if it is one of ours in `workspacesPath`. */
export function tandemWorkspaceSession(filePath: string | undefined, workspacesPath: string): string | undefined {
  const dir = `${workspacesPath.replace(/\/+$/, '')}/`;
  if (!filePath?.startsWith(dir)) return undefined;
  const match = /^([^/]+)\.code-workspace$/.exec(filePath.slice(dir.length));
  return match?.[1];
}

/** How many folders a workspace file's text lists (0 when it cannot be read as one). */
export function listedFolders(text: string): number {
  try {
    const parsed = JSON.parse(text) as { folders?: unknown } | null;
    return Array.isArray(parsed?.folders) ? parsed.folders.length : 0;
  } catch {
    return 0;
  }
}

/** The reload times among `kept` (a stored JSON text) that are younger than `windowMs`. */
export function recentTimes(kept: string | undefined, now: number, windowMs: number): number[] {
  try {
    const times = JSON.parse(kept ?? '[]') as unknown;
    return Array.isArray(times) ? times.filter((t): t is number => typeof t === 'number' && t <= now && now - t < windowMs) : [];
  } catch {
    return [];
  }
}
