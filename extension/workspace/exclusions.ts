/**
 * What of the host's folder is never shared: `.git` (repository internals, and its hooks run
 * code on the host), the `tandem.exclude` globs, and, with `tandem.respectGitignore`, whatever the
 * folder's `.gitignore` files ignore (the one at the top and those in subfolders; not
 * `.git/info/exclude` nor the user's global excludes). A folder that is excluded excludes
 * everything in it, and, as in git, nothing inside it can be re-included.
 *
 * The rules come from the host alone: its settings, and the `.gitignore` files as they are on its
 * disk (read through `readText`, never from an editor's unsaved text). Guests cannot change them:
 * the files that hold them are read-only for guests whatever the settings say (`ALWAYS_READ_ONLY`),
 * and the host never shares them as documents that a guest could edit (workspace-sharing.ts).
 * Names are matched in one folded form (glob.ts `foldName`), `.gitignore` rules included.
 *
 * No `vscode` import: the `.gitignore` files come through `readText`, so the node unit tests run
 * this as is.
 */
import ignore, { type Ignore } from 'ignore';
import { ALWAYS_READ_ONLY } from './default-rules';
import { foldName, globToRegExp, matchesAny } from './glob';
import { joinWire, parentOf, prefixesOf } from './wire-path';

export interface ExclusionRules {
  /** `tandem.exclude`. */
  globs: readonly string[];
  /** `tandem.respectGitignore`. */
  respectGitignore: boolean;
  /**
   * `tandem.readOnlyForGuests`: shared, but guests may not change them (defaults in
   * default-rules.ts: files that run code on the host). `ALWAYS_READ_ONLY` is added to them.
   */
  readOnly?: readonly string[];
}

/** The text of the file at this wire path, or undefined if there is none. */
export type ReadText = (path: string) => Promise<string | undefined>;

/** Never shared, whatever the settings say. */
const ALWAYS_EXCLUDED = new Set(['.git']);

const compile = (patterns: readonly string[]) => patterns.map(globToRegExp).filter((r): r is RegExp => r !== undefined);
const ALWAYS_READ_ONLY_PATTERNS = compile(ALWAYS_READ_ONLY);

export class Exclusions {
  private readonly globs: RegExp[];
  private readonly readOnly: RegExp[];
  /** `.gitignore` rules by the folder that holds them (`null`: none there). */
  private readonly gitignores = new Map<string, Promise<Ignore | null>>();

  constructor(
    readonly rules: ExclusionRules,
    private readonly readText: ReadText,
  ) {
    this.globs = compile(rules.globs);
    this.readOnly = [...ALWAYS_READ_ONLY_PATTERNS, ...compile(rules.readOnly ?? [])];
  }

  /**
   * Whether `path` (a file, or a folder when `isDirectory`) is kept from guests. Its parent
   * folders are checked too: a path inside an excluded folder is excluded.
   */
  async isExcluded(path: string, isDirectory: boolean): Promise<boolean> {
    const prefixes = prefixesOf(path);
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      const asDirectory = i < prefixes.length - 1 || isDirectory;
      if (ALWAYS_EXCLUDED.has(foldName(prefix.slice(prefix.lastIndexOf('/') + 1)))) return true;
      if (matchesAny(this.globs, prefix)) return true;
      if (this.rules.respectGitignore && (await this.gitignored(prefix, asDirectory))) return true;
    }
    return false;
  }

  /** Whether guests may see `path` but not change it (it or a folder above it matches `readOnly`). */
  isReadOnly(path: string): boolean {
    return prefixesOf(path).some((prefix) => matchesAny(this.readOnly, prefix));
  }

  /** For a path whose kind is unknown (a deleted one): excluded as a file or as a folder. */
  async mayBeExcluded(path: string): Promise<boolean> {
    return (await this.isExcluded(path, false)) || (await this.isExcluded(path, true));
  }

  /** Forgets the `.gitignore` rules read so far (one of them changed). */
  reset(): void {
    this.gitignores.clear();
  }

  /** Whether a change to this path changes the rules. */
  static isRulesFile(path: string): boolean {
    const folded = foldName(path);
    return folded === '.gitignore' || folded.endsWith('/.gitignore');
  }

  /**
   * Git's rule: every `.gitignore` from the top down to the path's folder is consulted, each with
   * the path relative to its own folder, and the deepest one with an opinion (ignore, or `!`
   * re-include) decides.
   */
  private async gitignored(path: string, isDirectory: boolean): Promise<boolean> {
    const folders = ['', ...prefixesOf(parentOf(path))];
    let ignored = false;
    for (const folder of folders) {
      const rules = await this.rulesIn(folder);
      if (!rules) continue;
      const relative = folder === '' ? path : path.slice(folder.length + 1);
      const verdict = rules.test(foldName(isDirectory ? `${relative}/` : relative));
      if (verdict.ignored) ignored = true;
      else if (verdict.unignored) ignored = false;
    }
    return ignored;
  }

  private rulesIn(folder: string): Promise<Ignore | null> {
    let rules = this.gitignores.get(folder);
    if (!rules) {
      rules = this.readText(joinWire(folder, '.gitignore')).then(
        // Folded as names are; `ignore` drops a range that folding turned around (`[z-a]`).
        (text) => (text === undefined ? null : ignore({ ignorecase: true }).add(foldName(text))),
        () => null,
      );
      this.gitignores.set(folder, rules);
    }
    return rules;
  }
}
