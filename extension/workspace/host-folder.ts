/**
 * The host's shared folder as guests may see it: wire paths to URIs, what is shared (exclusions)
 * and what stays inside the folder (no symbolic link leads out of it). Every answer of the host
 * file service goes through here first.
 */
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';
import * as vscode from 'vscode';
import { FileFault } from './file-fault';
import { type ExclusionRules, Exclusions } from './exclusions';
import { isRiskyNameOn, isWirePath, joinWire, parentOf } from './wire-path';

/** A name in a shared folder, as guests may see it. */
export interface SharedEntry {
  name: string;
  type: vscode.FileType;
  /** `path` joined with `name`. */
  path: string;
  directory: boolean;
  symlink: boolean;
}

/** What a check is for: a read that fails says "not found", a write "not shared". */
export type Intent = 'read' | 'write';

export class HostFolder {
  private exclusions: Exclusions;
  private realRoot: Promise<string | undefined> | undefined;

  constructor(
    readonly root: vscode.Uri,
    rules: ExclusionRules,
    private readonly platform: string = process.platform,
  ) {
    this.exclusions = this.exclusionsFor(rules);
  }

  get name(): string {
    return (
      vscode.workspace.getWorkspaceFolder(this.root)?.name ?? (this.root.path.split('/').filter(Boolean).pop() || this.root.toString())
    );
  }

  /** New settings (tandem.exclude, tandem.respectGitignore). */
  setRules(rules: ExclusionRules): void {
    this.exclusions = this.exclusionsFor(rules);
  }

  /** A `.gitignore` changed: read them again. */
  rulesChanged(): void {
    this.exclusions.reset();
  }

  /** The URI of a wire path; refuses a path that is malformed, or risky on this host's file system. */
  uriOf(path: string, intent: Intent): vscode.Uri {
    if (!isWirePath(path)) throw intent === 'read' ? FileFault.notFound(path) : FileFault.notShared(path);
    if (path === '') return this.root;
    const names = path.split('/');
    if (names.some((name) => isRiskyNameOn(this.platform, name)))
      throw intent === 'read' ? FileFault.notFound(path) : FileFault.notShared(path);
    return vscode.Uri.joinPath(this.root, ...names);
  }

  isExcluded(path: string, isDirectory: boolean): Promise<boolean> {
    return this.exclusions.isExcluded(path, isDirectory);
  }

  mayBeExcluded(path: string): Promise<boolean> {
    return this.exclusions.mayBeExcluded(path);
  }

  /** Guests may read it but not change it (`tandem.readOnlyForGuests`). */
  isReadOnly(path: string): boolean {
    return this.exclusions.isReadOnly(path);
  }

  /** Throws (not found / not shared / read-only) unless `path` of this kind is shared for `intent`. */
  async assertShared(path: string, kind: 'file' | 'directory' | 'unknown', intent: Intent): Promise<void> {
    const excluded = kind === 'unknown' ? await this.mayBeExcluded(path) : await this.isExcluded(path, kind === 'directory');
    if (excluded) throw intent === 'read' ? FileFault.notFound(path) : FileFault.notShared(path);
    if (intent === 'write' && this.isReadOnly(path)) throw FileFault.readOnly(path);
    if (!(await this.staysInside(path))) throw intent === 'read' ? FileFault.notFound(path) : FileFault.notShared(path);
  }

  /**
   * Whether the path, symbolic links followed, is inside the folder. For a path that does not
   * exist yet, its nearest existing parent is what counts. Only `file:` folders have links that
   * Node can resolve; for other schemes the folder's file system is trusted to stay inside.
   */
  async staysInside(path: string): Promise<boolean> {
    if (this.root.scheme !== 'file') return true;
    const root = await (this.realRoot ??= realpath(this.root.fsPath).catch(() => undefined));
    if (root === undefined) return false;
    for (let at = path; ; at = parentOf(at)) {
      const real = await realpath(this.uriOf(at, 'read').fsPath).catch((error: unknown) =>
        ['ENOENT', 'ENOTDIR'].includes((error as { code?: string }).code ?? '') ? undefined : null,
      );
      if (real === null) return false;
      if (real !== undefined) return real === root || real.startsWith(root.endsWith(sep) ? root : `${root}${sep}`);
      if (at === '') return false;
    }
  }

  /**
   * What a guest may see in the folder `path` (itself already checked): names the wire can carry
   * and this host serves, not excluded, and no link that leads out of the folder.
   */
  async sharedEntries(path: string): Promise<SharedEntry[]> {
    const entries: SharedEntry[] = [];
    for (const [name, type] of await vscode.workspace.fs.readDirectory(this.uriOf(path, 'read'))) {
      const child = joinWire(path, name);
      try {
        this.uriOf(child, 'read');
      } catch {
        continue; // a name the wire cannot carry, or one that is risky on this host
      }
      const directory = (type & vscode.FileType.Directory) !== 0;
      if (await this.isExcluded(child, directory)) continue;
      const symlink = (type & vscode.FileType.SymbolicLink) !== 0;
      if (symlink && !(await this.staysInside(child))) continue;
      entries.push({ name, type, path: child, directory, symlink });
    }
    return entries;
  }

  private exclusionsFor(rules: ExclusionRules): Exclusions {
    return new Exclusions(rules, async (path) => {
      try {
        return new TextDecoder().decode(await vscode.workspace.fs.readFile(this.uriOf(path, 'read')));
      } catch {
        return undefined;
      }
    });
  }
}
