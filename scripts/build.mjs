// Bundles each entry point so the relay image and the .vsix carry no node_modules.
// `--production`: minified, without source maps (what `npm run package` ships).
import { build } from 'esbuild';

const production = process.argv.includes('--production');
// `.lua`: relay/redis/scripts.ts imports the relay's Lua scripts as text (scripts/lua-loader.mjs under tsx).
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  loader: { '.lua': 'text' },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['relay/cli/main.ts'],
    outfile: 'dist/relay.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
  build({
    ...common,
    entryPoints: ['extension/extension.ts'],
    outfile: 'dist/extension.js',
    // ws's optional native helpers: not installed, and ws works without them.
    external: ['vscode', 'bufferutil', 'utf-8-validate'],
    format: 'cjs',
  }),
  // The chat view's webview: a small browser app and its stylesheet (the .vsix ships dist/webview/).
  build({
    ...common,
    platform: 'browser',
    target: 'es2022',
    entryPoints: ['extension/chat/webview/chat-app.ts'],
    outfile: 'dist/webview/chat-view.js',
    format: 'iife',
  }),
  build({ ...common, platform: 'browser', entryPoints: ['extension/chat/webview/chat-view.css'], outfile: 'dist/webview/chat-view.css' }),
]);
