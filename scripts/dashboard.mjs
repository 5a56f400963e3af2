// `npm run dashboard [relay-url]`: the desktop app (Electron) where its binary is installed
// (ELECTRON_PATH, or the electron package with its binary); otherwise one line saying so, and the
// same dashboard opens in the browser at <relay>/dashboard/. The relay: the argument,
// TANDEM_RELAY_URL, or http://127.0.0.1:8001.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const relayUrl = (process.argv[2] ?? process.env.TANDEM_RELAY_URL ?? 'http://127.0.0.1:8001').replace(/\/+$/, '');

function electronBinary() {
  if (process.env.ELECTRON_PATH) return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : undefined;
  try {
    // The package's main is the binary's path; it throws when the binary was never downloaded.
    const path = createRequire(join(root, 'package.json'))('electron');
    return typeof path === 'string' && existsSync(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

const binary = electronBinary();
if (binary) {
  const child = spawn(binary, [join(root, 'dist', 'electron', 'main.js')], {
    stdio: 'inherit',
    env: { ...process.env, ...(process.argv[2] && { TANDEM_RELAY_URL: relayUrl }) },
  });
  child.on('exit', (code) => process.exit(code ?? 0));
} else {
  const page = `${relayUrl}/dashboard/`;
  console.log(
    `dashboard: Electron's binary is not installed here (set ELECTRON_PATH, or npm install electron); opening ${page} in the browser`,
  );
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  const child = spawn(opener, [page], { stdio: 'ignore', detached: true });
  child.on('error', () => console.log(`dashboard: no browser opener (${opener}) found: open ${page} yourself`));
  child.unref();
}
