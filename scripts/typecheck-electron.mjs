// Typechecks the Electron shell (electron-dashboard/main.ts, preload.ts) and its tests against
// Electron's real types. `npm ci` installs node_modules/electron (its types) even where its binary
// download is skipped (ELECTRON_SKIP_BINARY_DOWNLOAD=1). Where the package is missing altogether,
// ELECTRON_TYPES=/path/to/electron.d.ts points at a copy (e.g. from `npm pack electron`); without
// either, this says so in one line and checks nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const project = join(root, 'test', 'electron-dashboard', 'tsconfig.json');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const installed = existsSync(join(root, 'node_modules', 'electron', 'electron.d.ts'));
const given = process.env.ELECTRON_TYPES;

let config = project;
let temp;
if (!installed) {
  if (!given || !existsSync(given)) {
    console.warn(
      'typecheck-electron: skipped: node_modules/electron is not installed (ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm ci installs its types)',
    );
    process.exit(0);
  }
  temp = mkdtempSync(join(tmpdir(), 'tandem-electron-types-'));
  config = join(temp, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: project,
      compilerOptions: { paths: { electron: [given] }, typeRoots: [join(root, 'node_modules', '@types')] },
    }),
  );
}
const result = spawnSync(process.execPath, [tsc, '-p', config, '--noEmit'], { stdio: 'inherit', cwd: root });
if (temp) rmSync(temp, { recursive: true, force: true });
process.exit(result.status ?? 1);
