/**
 * Processes that outlive the CLI: started detached (own session and process group, output to a
 * log file), found again later by pid, stopped with SIGTERM and, after a bound, SIGKILL.
 * Liveness reads /proc where there is one, so a zombie or a reused pid does not count as ours.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { DeployError } from './deploy-error';

export interface Started {
  pid: number;
  child: ChildProcess;
  /** Set once the process has exited while this CLI still runs (e.g. during start-up). */
  exit?: { code: number | null; signal: NodeJS.Signals | null };
}

/** Starts `command` in its own process group, stdout and stderr appended to `logFile`. */
export function spawnDetached(command: string, args: string[], options: { logFile: string; env: NodeJS.ProcessEnv; cwd: string }): Started {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env: options.env, cwd: options.cwd });
    if (child.pid === undefined) throw new DeployError(`could not start ${command}`);
    const started: Started = { pid: child.pid, child };
    child.once('exit', (code, signal) => (started.exit = { code, signal }));
    // Start-up failures show as an early exit; an unhandled 'error' would crash the CLI instead.
    child.on('error', () => undefined);
    child.unref();
    return started;
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether `pid` runs and is the process we started: its command line contains `marker` (a pid
 * may be reused after a reboot or a long time). A zombie (exited, not yet reaped) is not alive.
 */
export function isAlive(pid: number, marker: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (!hasProc()) return true;
  const proc = procInfo(pid);
  return proc !== undefined && proc.state !== 'Z' && proc.state !== 'X' && proc.cmdline.includes(marker);
}

/**
 * Every live process of the group `pgid` whose command line has `marker`: the leader and, for
 * nginx, its workers (which outlive a SIGKILLed master). Without /proc: the leader, if alive.
 */
export function groupMembers(pgid: number, marker: string): number[] {
  if (!hasProc()) return isAlive(pgid, marker) ? [pgid] : [];
  const members: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const info = procInfo(Number(entry));
    if (info && info.pgrp === pgid && info.state !== 'Z' && info.state !== 'X' && info.cmdline.includes(marker))
      members.push(Number(entry));
  }
  return members;
}

export type StopOutcome = 'stopped' | 'killed' | 'not running';

/** SIGTERM to the process group, SIGKILL after `timeoutMs`; resolves once none of it is left. */
export async function stopGroup(pgid: number, marker: string, timeoutMs: number): Promise<StopOutcome> {
  if (groupMembers(pgid, marker).length === 0) return 'not running';
  signalGroup(pgid, marker, 'SIGTERM');
  if (await waitUntil(() => groupMembers(pgid, marker).length === 0, timeoutMs)) return 'stopped';
  signalGroup(pgid, marker, 'SIGKILL');
  if (await waitUntil(() => groupMembers(pgid, marker).length === 0, 5000)) return 'killed';
  throw new DeployError(`pid ${pgid} (${marker}) survived SIGKILL`);
}

function signalGroup(pgid: number, marker: string, signal: NodeJS.Signals): void {
  try {
    // Only when the leader is still ours: a dead leader's pid may belong to someone else now.
    if (isAlive(pgid, marker)) {
      process.kill(-pgid, signal);
      return;
    }
  } catch {
    // Fall through to the members one by one.
  }
  for (const pid of groupMembers(pgid, marker)) {
    try {
      process.kill(pid, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Polls `condition` every 50 ms; false if it still fails after `timeoutMs`. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (signal?.aborted) throw new DeployError('interrupted');
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The path of an installed program: `override` (an environment variable's value) if given, else
 * the PATH and the sbin directories (Debian installs nginx in /usr/sbin, often not on a user's PATH).
 */
export function findBinary(name: string, override: string | undefined, hint: string): string {
  if (override) {
    if (isExecutable(override)) return override;
    throw new DeployError(`${name} not found at ${override}: ${hint}`);
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter((dir) => isAbsolute(dir));
  const found = dirs.map((dir) => join(dir, name)).find(isExecutable);
  if (!found) throw new DeployError(`${name} not found: ${hint}`);
  return found;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function hasProc(): boolean {
  return existsSync('/proc/self/stat');
}

/** /proc/PID/stat and cmdline, or undefined where there is no /proc (or no such process). */
function procInfo(pid: number): { state: string; pgrp: number; cmdline: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: parse after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return { state: fields[0] ?? '', pgrp: Number(fields[2]), cmdline };
  } catch {
    return undefined;
  }
}
