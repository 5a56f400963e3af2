// Imports of `.lua` files as text under tsx, as esbuild's `text` loader does in the bundles
// (scripts/build.mjs): relay/redis/scripts.ts loads the relay's Lua scripts so.
//   node --import tsx --import ./scripts/lua-loader.mjs relay/cli/main.ts serve
import { readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

// CommonJS: tsx compiles the repository's .ts files (a CommonJS package) to require() calls.
const Module = createRequire(import.meta.url)('node:module');
Module._extensions['.lua'] = (module, filename) => {
  module.exports = readFileSync(filename, 'utf8');
};

// ES modules: a load hook, in the loader thread.
const hooks = `
import { readFile } from 'node:fs/promises';
export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.lua')) return nextLoad(url, context);
  const text = await readFile(new URL(url), 'utf8');
  return { format: 'module', source: 'export default ' + JSON.stringify(text) + ';', shortCircuit: true };
}
`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
