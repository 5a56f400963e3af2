/**
 * Paths of the shared folder as they travel: relative, `/`-separated, `''` for the folder itself
 * (protocol `WorkspacePath`). Pure string work, shared by the host and the guest side.
 */
import { WorkspacePath } from '../../protocol';

export function isWirePath(path: string): boolean {
  return WorkspacePath.safeParse(path).success;
}

/** `a/b` + `c` -> `a/b/c`; `''` + `c` -> `c`. */
export function joinWire(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

/** `a/b/c` -> `a/b`; `a` -> `''`. */
export function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/** `a/b/c` -> `['a', 'a/b', 'a/b/c']`: every path from the top down to `path` itself. */
export function prefixesOf(path: string): string[] {
  if (path === '') return [];
  const out: string[] = [];
  let at = path.indexOf('/');
  while (at >= 0) {
    out.push(path.slice(0, at));
    at = path.indexOf('/', at + 1);
  }
  out.push(path);
  return out;
}

/**
 * The wire path of `childPath` (a URI path) below `rootPath`, or undefined when it is not below
 * it. Both are URI paths (`/`-separated, absolute).
 */
export function relativeWirePath(rootPath: string, childPath: string): string | undefined {
  const root = rootPath.replace(/\/+$/, '');
  if (childPath === root) return '';
  if (!childPath.startsWith(`${root}/`)) return undefined;
  const rest = childPath.slice(root.length + 1).replace(/\/+$/, '');
  return isWirePath(rest) ? rest : undefined;
}

/**
 * Names a host whose file system reads them differently would let through to some other file:
 * on Windows `a.env.` and `a.env ` are `a.env`, `x:stream` is an alternate data stream of `x`, and
 * `PROGRA~1` is a short alias. Such a name is never served there (nor is a reserved device name).
 */
export function isRiskyNameOn(platform: string, name: string): boolean {
  if (platform !== 'win32') return false;
  return /[:*?"<>|]/.test(name) || /[. ]$/.test(name) || /~\d/.test(name) || /^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$/i.test(name);
}
