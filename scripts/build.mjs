// Bundles each entry point so the relay image and the .vsix carry no node_modules.
// `--production`: minified, without source maps (what `npm run package` ships).
import { copyFileSync, mkdirSync } from 'node:fs';
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
  // The relay dashboard's renderer (electron-dashboard/renderer): the relay serves dist/dashboard/ at /dashboard/.
  build({
    ...common,
    platform: 'browser',
    target: 'es2022',
    entryPoints: ['electron-dashboard/renderer/app.ts'],
    outfile: 'dist/dashboard/dashboard.js',
    format: 'iife',
  }),
  build({
    ...common,
    platform: 'browser',
    entryPoints: ['electron-dashboard/renderer/dashboard.css'],
    outfile: 'dist/dashboard/dashboard.css',
  }),
  // The Electron shell: main and preload as CommonJS for Electron's Node (electron itself is provided at run time).
  build({
    ...common,
    entryPoints: ['electron-dashboard/main.ts'],
    outfile: 'dist/electron/main.js',
    format: 'cjs',
    external: ['electron'],
  }),
  build({
    ...common,
    entryPoints: ['electron-dashboard/preload.ts'],
    outfile: 'dist/electron/preload.js',
    format: 'cjs',
    external: ['electron'],
  }),
  build({
    ...common,
    platform: 'browser',
    target: 'es2022',
    entryPoints: ['electron-dashboard/start/start.ts'],
    outfile: 'dist/electron/start.js',
  }),
  build({ ...common, platform: 'browser', entryPoints: ['electron-dashboard/start/start.css'], outfile: 'dist/electron/start.css' }),
]);
mkdirSync('dist/electron', { recursive: true });
copyFileSync('electron-dashboard/start/start.html', 'dist/electron/start.html');
mkdirSync('dist/dashboard', { recursive: true });
copyFileSync('electron-dashboard/renderer/index.html', 'dist/dashboard/index.html');
copyFileSync('media/tandem.svg', 'dist/dashboard/tandem.svg');
