/**
 * Find in Shared Folder, on the host: ripgrep (the one VS Code ships) over the shared files only.
 * The host lists what it shares first (exclusions applied, excluded folders never entered), the
 * guest's include/exclude globs narrow that list, and ripgrep is handed those files by name, a
 * batch at a time: a file the guest may not see is never even read. Ripgrep's regular expressions
 * cannot backtrack, so a guest's pattern cannot hang the host; the search is bounded in matches,
 * per file, and in time.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { WORKSPACE_SEARCH_LIMITS, type SearchMatch, type SearchQuery } from '../../protocol';
import { FileFault } from '../workspace/file-fault';
import { globToRegExp, matchesAny } from '../workspace/glob';
import type { HostFolder } from '../workspace/host-folder';
import { sharedFiles } from '../workspace/shared-files';
import { matchesOfLine } from './ripgrep-json';

/** Files searched at most (the shared list's first ones), files per ripgrep run, and the whole search's time. */
const MAX_FILES = 50_000;
const BATCH = 200;
const TIME_LIMIT_MS = 15_000;
const MAX_PER_FILE = 200;

export interface SearchOutcome {
  matches: SearchMatch[];
  /** Stopped at the match cap, the file cap or the time limit. */
  incomplete: boolean;
}

export async function searchSharedFiles(folder: HostFolder, under: string, query: SearchQuery): Promise<SearchOutcome> {
  const rg = ripgrepPath();
  if (!rg || folder.root.scheme !== 'file') throw new FileFault('Unavailable', 'searching needs ripgrep and a local folder on the host');
  const listed = await sharedFiles(folder, under, MAX_FILES);
  const files = listed.paths.filter(globFilter(query));
  const deadline = Date.now() + TIME_LIMIT_MS;
  const matches: SearchMatch[] = [];
  const incomplete = listed.incomplete;
  for (let at = 0; at < files.length; at += BATCH) {
    const room = WORKSPACE_SEARCH_LIMITS.matches - matches.length;
    const found = await runRipgrep(rg, folder.root.fsPath, query, files.slice(at, at + BATCH), room, deadline);
    matches.push(...found.matches);
    if (found.incomplete) return { matches, incomplete: true };
  }
  if (matches.length > WORKSPACE_SEARCH_LIMITS.matches)
    return { matches: matches.slice(0, WORKSPACE_SEARCH_LIMITS.matches), incomplete: true };
  return { matches, incomplete };
}

/** The guest's globs, VS Code's syntax, as `tandem.exclude` reads them. */
function globFilter(query: SearchQuery): (path: string) => boolean {
  const compile = (globs: readonly string[] | undefined) => (globs ?? []).map(globToRegExp).filter((r): r is RegExp => r !== undefined);
  const include = compile(query.include);
  const exclude = compile(query.exclude);
  return (path) => (include.length === 0 || matchesAny(include, path)) && !matchesAny(exclude, path);
}

/** VS Code's own ripgrep: next to its modules (code-server, VS Code for the Web's server) or unpacked beside the asar (desktop). */
function ripgrepPath(): string | undefined {
  const name = process.platform === 'win32' ? 'rg.exe' : 'rg';
  return ['node_modules', 'node_modules.asar.unpacked']
    .map((modules) => join(vscode.env.appRoot, modules, '@vscode', 'ripgrep', 'bin', name))
    .find((path) => existsSync(path));
}

function runRipgrep(rg: string, cwd: string, query: SearchQuery, files: string[], room: number, deadline: number): Promise<SearchOutcome> {
  const args = [
    '--json',
    '--no-config',
    '--no-ignore',
    '--max-filesize',
    '16M',
    '--max-count',
    String(MAX_PER_FILE),
    query.case_sensitive ? '--case-sensitive' : '--ignore-case',
    ...(query.regex ? [] : ['--fixed-strings']),
    '--regexp',
    query.pattern,
    '--',
    ...files,
  ];
  const allowed = new Set(files);
  return new Promise((resolve, reject) => {
    const child = spawn(rg, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const matches: SearchMatch[] = [];
    let incomplete = false;
    let rest = '';
    let errors = '';
    const stop = () => {
      incomplete = true;
      child.kill();
    };
    const timer = setTimeout(stop, Math.max(0, deadline - Date.now()));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (incomplete) return;
        matches.push(...matchesOfLine(line, allowed));
        if (matches.length >= room) stop();
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (errors = (errors + chunk).slice(0, 2000)));
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (!incomplete && rest) matches.push(...matchesOfLine(rest, allowed));
      // 0: matches, 1: none, 2: an error: a bad pattern (its message says what), or a file that
      // went away since it was listed (the others were searched: their matches stand).
      if (code === 2 && /regex parse error|error parsing/i.test(errors)) {
        reject(new FileFault('Unavailable', `the search failed: ${errors.split('\n').find((l) => l.trim()) ?? 'ripgrep error'}`));
        return;
      }
      resolve({ matches: matches.slice(0, room), incomplete: incomplete || matches.length > room });
    });
  });
}
