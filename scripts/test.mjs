// Runs every test file under test/ with node's test runner (Node 20's --test does not expand
// globs). Arguments filter by path: `npm test -- relay/limits protocol`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = join(import.meta.dirname, '..');
const filters = process.argv.slice(2);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield path;
  }
}

const files = [...walk(join(root, 'test'))]
  .map((file) => relative(root, file))
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}
// A test file that hangs (a server that never answers, a handle left open) fails after this long,
// named, instead of holding up the whole run: with a list of files, node's runner applies the
// timeout to each file as a whole. The longest file (the extension-host suites) takes about 5 min.
const FILE_TIMEOUT_MS = 15 * 60_000;
// The relay's Lua scripts as text (relay/redis/scripts.ts); by URL, so that a child with another cwd finds it too.
const luaLoader = pathToFileURL(join(root, 'scripts', 'lua-loader.mjs')).href;
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--import',
    luaLoader,
    '--test',
    '--test-concurrency=1',
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    // A file whose tests are done ends even if something it started keeps a handle open.
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
process.exit(result.status ?? 1);
