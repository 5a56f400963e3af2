// Type-aware lint: above all, no floating promises (every promise awaited or explicitly `void`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layer boundaries (issue 12): relay/ and extension/ meet only through protocol/ (the wire contract)
// and reach it only through its entry points. Patterns, not file lists, so that new files are covered
// too. One config object per directory: flat config replaces a rule's options, it does not merge them.
const sources = (dir) => [`${dir}/**/*.{ts,mts,cts,js,mjs,cjs}`];
const climbsTo = (...dirs) => String.raw`^(?:\.\./)+(?:${dirs.join('|')})(?:/|$)`;
const protocolEntryPointsOnly = {
  // '../protocol', '../../protocol/ot' and '../../protocol/client' (or their /index) pass; anything deeper does not.
  regex: String.raw`^(?:\.\./)+protocol/(?!(?:ot|client)(?:/index)?$|index$)`,
  message:
    "Import protocol/ through an entry point: '…/protocol' (schemas, events, codec, errors), '…/protocol/ot' (OT) " +
    "or '…/protocol/client' (relay client); if what you need is missing, export it from that index.ts.",
};
const restrictedImports = (options) => ({ '@typescript-eslint/no-restricted-imports': ['error', options] });
const boundaries = [
  {
    files: sources('protocol'),
    rules: restrictedImports({
      patterns: [
        {
          regex: climbsTo('relay', 'extension', 'electron-dashboard'),
          message: 'protocol/ is what the others build on: it imports none of them.',
        },
        {
          // Its own files (relative) and zod pass; node:*, ws, ioredis, vscode and the rest do not.
          regex: String.raw`^(?!\.\.?(?:/|$)|zod(?:/|$))`,
          message:
            'protocol/ runs in Node, browsers and the extension host: it imports only its own files and zod (no node:*, ws, ' +
            'ioredis or vscode); a runtime piece comes in as a parameter, as the WebSocket does through a transport.',
        },
      ],
    }),
  },
  {
    files: sources('relay'),
    rules: restrictedImports({
      paths: [{ name: 'vscode', message: 'relay/ is a Node server: it does not run inside VS Code.' }],
      patterns: [
        {
          regex: climbsTo('extension', 'electron-dashboard'),
          message: 'relay/ does not import the clients (extension/, electron-dashboard/): they meet only through protocol/.',
        },
        protocolEntryPointsOnly,
      ],
    }),
  },
  {
    files: sources('extension'),
    rules: restrictedImports({
      patterns: [
        {
          regex: climbsTo('relay', 'electron-dashboard'),
          message: 'extension/ does not import relay/ (or electron-dashboard/): they meet only through protocol/.',
        },
        protocolEntryPointsOnly,
      ],
    }),
  },
  {
    files: sources('electron-dashboard'),
    rules: restrictedImports({
      paths: [{ name: 'vscode', message: 'electron-dashboard/ does not run inside VS Code.' }],
      patterns: [
        { regex: climbsTo('relay', 'extension'), message: 'electron-dashboard/ uses only protocol/: it talks to the relay over the wire.' },
        protocolEntryPointsOnly,
      ],
    }),
  },
  {
    // The renderer and the start page run in a sandboxed page (a browser, or Electron without Node).
    files: [...sources('electron-dashboard/renderer'), ...sources('electron-dashboard/start')],
    rules: restrictedImports({
      paths: [
        { name: 'vscode', message: 'electron-dashboard/ does not run inside VS Code.' },
        { name: 'electron', message: 'The page gets only the preload’s bridge (window.tandemDashboard, electron-dashboard/bridge.ts).' },
      ],
      patterns: [
        { regex: climbsTo('relay', 'extension'), message: 'electron-dashboard/ uses only protocol/: it talks to the relay over the wire.' },
        protocolEntryPointsOnly,
        { regex: String.raw`^node:`, message: 'The dashboard’s page runs in a browser: no Node modules.' },
      ],
    }),
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', 'bench-results/**', 'protocol/json/**', '.tandem/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's describe/it return promises the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      // Prettier wraps code at 140; this catches what it cannot wrap (long strings and comments).
      'max-len': ['error', { code: 140, tabWidth: 2 }],
    },
  },
  ...boundaries,
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
  },
);
