import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const RELAY_BUNDLE = join(ROOT, 'dist', 'relay.js');

/** The tests run the real bundle; build it when a test file runs on its own. */
export function ensureRelayBuilt(): string {
  if (!existsSync(RELAY_BUNDLE)) execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
  return RELAY_BUNDLE;
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/relay.js ARGS` to completion with only the given environment (plus PATH). */
export function runRelayCli(args: string[], env: Record<string, string> = {}, timeoutMs = 15_000): CliResult {
  const result = spawnSync(process.execPath, [ensureRelayBuilt(), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
