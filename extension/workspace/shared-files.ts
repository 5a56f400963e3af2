/**
 * Every shared file below a folder of the host's shared folder, as guests may see them: the
 * walk prunes excluded folders as it goes (never reading inside them) and does not follow links
 * to folders (no cycles; a link to a file that stays inside is listed). Bounded: it stops at
 * `limit` files, or after `MAX_SCANNED` names seen.
 */
import * as vscode from 'vscode';
import type { HostFolder } from './host-folder';

const MAX_SCANNED = 200_000;

export interface SharedFiles {
  /** Wire paths, in the walk's order (breadth first). */
  paths: string[];
  /** The walk stopped at a bound: there may be more. */
  incomplete: boolean;
}

export async function sharedFiles(folder: HostFolder, under: string, limit: number): Promise<SharedFiles> {
  const paths: string[] = [];
  const queue = [under];
  let scanned = 0;
  while (queue.length > 0) {
    const dir = queue.shift()!;
    for (const entry of await folder.sharedEntries(dir)) {
      if (++scanned > MAX_SCANNED || paths.length >= limit) return { paths, incomplete: true };
      if (entry.directory) {
        if (!entry.symlink) queue.push(entry.path);
      } else if ((entry.type & vscode.FileType.File) !== 0) {
        paths.push(entry.path);
      }
    }
  }
  return { paths, incomplete: false };
}
