// Bundles the extension-host tests: test/extension-host/index.ts -> out/test/extension-host/index.js
// and each test/extension-host/suites/**/*.suite.ts -> out/test/extension-host/suites/**/*.suite.js,
// which index.js finds at run time. CommonJS for the extension host; `vscode` comes from the host.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const source = join(root, 'test', 'extension-host');
const outdir = join(root, 'out', 'test', 'extension-host');

const suites = readdirSync(join(source, 'suites'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.suite.ts'))
  .map((file) => join(source, 'suites', file));
if (suites.length === 0) throw new Error(`no *.suite.ts under ${join(source, 'suites')}`);

// mocha is bundled into index.js: mocha 12 is ES modules inside (even lib/mocha.cjs requires .js
// ESM files), so loading it from node_modules would need require(esm), which not every Node that
// VS Code's extension host runs on has. The suites must drive the very Mocha instance that runs
// them (`suite`/`test` delegate to the UI it installs), so in their bundles `mocha` is index.js,
// which re-exports those functions; Node's module cache makes it the copy VS Code loaded.
const indexOut = join(outdir, 'index.js');
const mochaFromIndex = (outfile) => ({
  name: 'mocha-from-index',
  setup(b) {
    const path = relative(dirname(outfile), indexOut);
    b.onResolve({ filter: /^mocha$/ }, () => ({ path: path.startsWith('.') ? path : `./${path}`, external: true }));
  },
});

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  external: ['vscode'],
  logLevel: 'warning',
  // Suites that start a relay in process bundle relay/redis/scripts.ts, which imports Lua as text.
  loader: { '.lua': 'text' },
};

// Stale bundles of deleted suites would still run: start from an empty dir.
if (existsSync(outdir)) rmSync(outdir, { recursive: true, force: true });
await Promise.all([
  build({
    ...common,
    entryPoints: [join(source, 'index.ts')],
    outfile: indexOut,
    // Only mocha's parallel mode (worker processes, never used here) resolves files at run time.
    logOverride: { 'require-resolve-not-external': 'silent' },
  }),
  ...suites.map((suite) => {
    const outfile = join(outdir, relative(source, suite)).replace(/\.ts$/, '.js');
    return build({ ...common, entryPoints: [suite], outfile, plugins: [mochaFromIndex(outfile)] });
  }),
]);
