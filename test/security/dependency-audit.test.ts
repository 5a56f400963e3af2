/**
 * The dependency audit (scripts/audit-lockfile.mjs): the project's lockfile against the kept
 * advisories (security/advisories.json), and that the check does catch an affected version.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'audit-lockfile.mjs');

function audit(...args: string[]) {
  const result = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

function lockfile(packages: Record<string, { version: string; dev?: boolean }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-audit-'));
  const path = join(dir, 'package-lock.json');
  writeFileSync(path, JSON.stringify({ name: 'x', lockfileVersion: 3, packages: { '': { name: 'x' }, ...packages } }));
  return path;
}

describe('dependency audit against the kept advisories', () => {
  it('passes on the project’s lockfile', () => {
    const { status, out } = audit();
    assert.equal(status, 0, out);
    assert.match(out, /none affected by the \d+ advisories kept/);
  });

  it('fails on an affected version, production or dev, nested or not, naming the advisory', () => {
    const path = lockfile({
      'node_modules/ws': { version: '8.16.0' },
      'node_modules/engine.io/node_modules/ws': { version: '8.21.3', dev: true },
      'node_modules/jsonwebtoken': { version: '8.5.1' },
      'node_modules/json5': { version: '2.2.1', dev: true },
      'node_modules/zod': { version: '4.6.7' },
    });
    const { status, out } = audit('--lockfile', path);
    assert.equal(status, 1, out);
    assert.match(out, /ws@8\.16\.0 \(production, node_modules\/ws\) is affected by GHSA-3h5v-q93c-6h6q \[high\]/);
    assert.match(out, /jsonwebtoken@8\.5\.1 .* GHSA-8cf7-32gw-wr33/);
    assert.match(out, /jsonwebtoken@8\.5\.1 .* GHSA-hjrf-2m68-5959/);
    assert.match(out, /json5@2\.2\.1 \(dev/);
    assert.doesNotMatch(out, /ws@8\.21\.3|zod@/, 'fixed versions pass');
  });

  it('refuses an advisory list whose range does not parse (a typo must not pass silently)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tandem-audit-'));
    const advisories = join(dir, 'advisories.json');
    writeFileSync(
      advisories,
      JSON.stringify({ reviewed: 'today', advisories: [{ id: 'X', package: 'ws', range: '>=8 <<9', severity: 'high', title: 't' }] }),
    );
    const { status, out } = audit('--advisories', advisories);
    assert.notEqual(status, 0);
    assert.match(out, /X: the range ">=8 <<9" does not parse/);
  });
});
