// The dependency audit that works here: every package version in package-lock.json against the
// advisories kept in security/advisories.json (the registry's audit endpoint cannot be reached
// from this machine: `npm audit` gets 405). Exit 1 and one line per match if any installed
// version is affected; `--lockfile F --advisories F` to check other files (the tests do).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';

const root = join(import.meta.dirname, '..');

/** Every (name, version, dev) in a lockfile v2/v3 (`packages`, keyed by install path). */
export function installedPackages(lockfile) {
  const out = [];
  for (const [path, entry] of Object.entries(lockfile.packages ?? {})) {
    if (path === '' || !entry.version) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.push({ name, version: entry.version, dev: entry.dev === true, path });
  }
  return out;
}

/** The advisories each installed package falls under. Throws on a range that does not parse. */
export function findAffected(lockfile, advisories) {
  for (const advisory of advisories) {
    if (semver.validRange(advisory.range) === null) throw new Error(`${advisory.id}: the range "${advisory.range}" does not parse`);
  }
  const matches = [];
  for (const pkg of installedPackages(lockfile)) {
    for (const advisory of advisories) {
      if (advisory.package === pkg.name && semver.satisfies(pkg.version, advisory.range, { includePrerelease: true }))
        matches.push({ ...pkg, advisory });
    }
  }
  return matches;
}

function main() {
  const arg = (flag, fallback) => {
    const at = process.argv.indexOf(flag);
    return at >= 0 ? process.argv[at + 1] : fallback;
  };
  const lockfile = JSON.parse(readFileSync(arg('--lockfile', join(root, 'package-lock.json')), 'utf8'));
  const kept = JSON.parse(readFileSync(arg('--advisories', join(root, 'security', 'advisories.json')), 'utf8'));
  const matches = findAffected(lockfile, kept.advisories);
  const checked = installedPackages(lockfile).length;
  if (matches.length === 0) {
    console.log(
      `audit: ${checked} installed packages, none affected by the ${kept.advisories.length} advisories kept (reviewed ${kept.reviewed})`,
    );
    return;
  }
  for (const m of matches) {
    console.error(
      `audit: ${m.name}@${m.version} (${m.dev ? 'dev' : 'production'}, ${m.path}) is affected by ${m.advisory.id} ` +
        `[${m.advisory.severity}]: ${m.advisory.title}; affected ${m.advisory.range}`,
    );
  }
  process.exitCode = 1;
}

if (process.argv[1] && import.meta.filename === process.argv[1]) main();
