// Installs code-server 4.100.3 (VS Code 1.100.3) for the extension-host tests, following
// notes/vscode-under-test.md: its own install script cannot run here (root, Kerberos headers,
// ripgrep from GitHub), so the steps are done by hand. The install lives in a cache dir outside
// the repo so every fresh CI clone on this machine reuses it:
//   ${TANDEM_CODE_SERVER_DIR:-${XDG_CACHE_HOME:-~/.cache}/tandem/code-server-4.100.3}
// It is built in a sibling staging dir and renamed into place only after every step (and a smoke
// start) succeeded, with a marker file written last: a half-finished install is never used, and is
// redone on the next run. Prints the path of entry.js at the end (stdout); progress goes to stderr.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

export const CODE_SERVER_VERSION = '4.100.3';
const MARKER = '.tandem-install-complete';
const RG = '/usr/bin/rg';

/** Where the install lives; test/support/code-server.ts computes the same path. */
export function codeServerDir(env = process.env) {
  if (env.TANDEM_CODE_SERVER_DIR) return env.TANDEM_CODE_SERVER_DIR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tandem', `code-server-${CODE_SERVER_VERSION}`);
}

const entryOf = (dir) => join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');

function isComplete(dir) {
  try {
    const marker = JSON.parse(readFileSync(join(dir, MARKER), 'utf8'));
    // Native modules (node-pty, argon2...) are built for one Node ABI: a new Node means a new build.
    return marker.version === CODE_SERVER_VERSION && marker.modules === process.versions.modules && existsSync(entryOf(dir));
  } catch {
    return false;
  }
}

class StepError extends Error {}

// node-gyp would download Node's headers from nodejs.org (unreachable here); the running Node's own
// install has them (Debian's nodejs: /usr/include/node), so point node-gyp there unless the user's
// npm config already says where. CI=true keeps npm's progress output out of the captured logs.
const nodePrefix = dirname(dirname(process.execPath));
const NPM_ENV = {
  CI: 'true',
  npm_config_loglevel: 'error',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
  npm_config_update_notifier: 'false',
  ...(!process.env.npm_config_nodedir && existsSync(join(nodePrefix, 'include', 'node', 'node.h'))
    ? { npm_config_nodedir: nodePrefix }
    : {}),
};

/** Runs a command quietly; on failure throws with the tail of its output (the useful part). */
function run(cwd, command, args, { allowFailure = false, timeoutMs = 20 * 60_000, env = {} } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    timeout: timeoutMs,
    // CI=true keeps npm's progress bars and prompts out of captured output.
    env: { ...process.env, ...NPM_ENV, ...env },
  });
  if (result.status === 0 || allowFailure) return result;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
  const why = result.error ? result.error.message : `exit ${result.status ?? result.signal}`;
  throw new StepError(`\`${command} ${args.join(' ')}\` in ${cwd} failed (${why}):\n${output}`);
}

async function step(name, fn) {
  const started = Date.now();
  process.stderr.write(`install-code-server: ${name} ... `);
  try {
    await fn();
  } catch (error) {
    process.stderr.write('FAILED\n');
    throw error;
  }
  process.stderr.write(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
}

/** Staging dirs of runs that were killed half-way (their pid is gone) are only wasted space. */
function removeAbandonedStaging(target) {
  const prefix = `${basename(target)}.partial-`;
  for (const name of readdirSync(dirname(target))) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length));
    let alive = false;
    try {
      process.kill(pid, 0);
      alive = true;
    } catch (error) {
      alive = error.code === 'EPERM';
    }
    if (!alive) rmSync(join(dirname(target), name), { recursive: true, force: true });
  }
}

async function install(target) {
  if (!existsSync(RG))
    throw new StepError(`${RG} is missing: apt-get install -y ripgrep (or run \`npm run test:all\` as root or with sudo)`);
  removeAbandonedStaging(target);
  const staging = `${target}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const vscodeDir = join(staging, 'node_modules', 'code-server', 'lib', 'vscode');
  try {
    await step(`npm install code-server@${CODE_SERVER_VERSION}`, () => {
      // A package.json of its own keeps npm from walking up to some other project.
      writeFileSync(join(staging, 'package.json'), JSON.stringify({ name: 'tandem-code-server', private: true }, null, 2));
      run(staging, 'npm', ['install', '--ignore-scripts', `code-server@${CODE_SERVER_VERSION}`]);
    });
    await step('npm rebuild argon2', () => run(staging, 'npm', ['rebuild', 'argon2']));
    await step('npm install lib/vscode', () => run(vscodeDir, 'npm', ['install', '--omit=dev', '--ignore-scripts']));
    await step('npm rebuild native modules', () => {
      run(vscodeDir, 'npm', ['rebuild', '@parcel/watcher', '@vscode/spdlog', 'native-watchdog', '@vscode/deviceid']);
      // node-pty's post-install step fails after its build (harmless, see the notes): judge it by
      // the built binary instead of npm's exit status.
      run(vscodeDir, 'npm', ['rebuild', 'node-pty'], { allowFailure: true });
      if (!existsSync(join(vscodeDir, 'node_modules', 'node-pty', 'build', 'Release', 'pty.node'))) {
        throw new StepError('node-pty did not build: node_modules/node-pty/build/Release/pty.node is missing');
      }
      symlinkSync('node_modules', join(vscodeDir, 'node_modules.asar'));
    });
    await step('copy rg from Debian ripgrep', () => {
      const bin = join(vscodeDir, 'node_modules', '@vscode', 'ripgrep', 'bin');
      mkdirSync(bin, { recursive: true });
      copyFileSync(RG, join(bin, 'rg'));
      chmodSync(join(bin, 'rg'), 0o755);
    });
    await step('npm install lib/vscode/extensions', () =>
      run(join(vscodeDir, 'extensions'), 'npm', ['install', '--omit=dev', '--ignore-scripts']),
    );
    await step('check native modules load', () => {
      const modules = ['node-pty', '@parcel/watcher', '@vscode/spdlog', 'native-watchdog', '@vscode/deviceid'];
      run(vscodeDir, process.execPath, ['-e', modules.map((m) => `require(${JSON.stringify(m)})`).join(';')]);
      run(staging, process.execPath, ['-e', 'require("argon2")']);
    });
    await step('check code-server --version', () => {
      // Its XDG dirs in a throwaway dir: even --version writes a config.yaml and logs under ~.
      const scratch = mkdtempSync(join(tmpdir(), 'tandem-code-server-version-'));
      const xdg = { XDG_CONFIG_HOME: scratch, XDG_DATA_HOME: scratch, XDG_CACHE_HOME: scratch };
      let stdout;
      try {
        ({ stdout } = run(staging, process.execPath, [entryOf(staging), '--version'], { timeoutMs: 60_000, env: xdg }));
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
      if (!stdout.includes(CODE_SERVER_VERSION)) throw new StepError(`unexpected version output: ${stdout.trim()}`);
    });
    const marker = {
      version: CODE_SERVER_VERSION,
      node: process.version,
      modules: process.versions.modules,
      installedAt: new Date().toISOString(),
    };
    writeFileSync(join(staging, MARKER), `${JSON.stringify(marker)}\n`);
    // An incomplete leftover from an older run is replaced; a complete one installed meanwhile by a
    // concurrent run wins (rename fails on a non-empty target) and this staging copy is dropped.
    if (existsSync(target) && !isComplete(target)) rmSync(target, { recursive: true, force: true });
    try {
      renameSync(staging, target);
    } catch (error) {
      if (!isComplete(target)) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

const isMain = process.argv[1] && join(process.argv[1]) === join(import.meta.filename);
if (isMain) {
  const target = codeServerDir();
  try {
    if (isComplete(target)) {
      process.stderr.write(`install-code-server: code-server ${CODE_SERVER_VERSION} already installed in ${target}\n`);
    } else {
      mkdirSync(dirname(target), { recursive: true });
      await install(target);
    }
    process.stdout.write(`${entryOf(target)}\n`);
  } catch (error) {
    process.stderr.write(`install-code-server: ${error instanceof StepError ? error.message : error.stack}\n`);
    process.exit(1);
  }
}
