/**
 * docker/Dockerfile without a Docker engine: parsed and checked (stages, user, health check,
 * what the runtime image holds), then its two stages replayed on this machine: the build stage's
 * COPY and RUN lines in a temp dir (node_modules linked instead of `npm ci`), the runtime stage's
 * COPY into an empty dir, and its CMD and HEALTHCHECK run there, with no node_modules in reach.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { httpStatus } from '../../relay/cli/cluster/probes';
import { waitUntil } from '../support/wait';
import { freePort, ROOT, runCommand, TEST_SECRET } from './helpers';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  image: string;
  name: string;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, image = '', name = ''] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ image, name, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${keyword} before FROM`);
      stages.at(-1)!.instructions.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

const of = (stage: Stage, keyword: string) =>
  stage.instructions.filter((instruction) => instruction.keyword === keyword).map((instruction) => instruction.args);

/** `KEY=value KEY2=value2` of ENV lines. */
function envOf(stage: Stage): Record<string, string> {
  return Object.fromEntries(of(stage, 'ENV').flatMap((args) => [...args.matchAll(/(\w+)=(\S+)/g)].map((match) => [match[1]!, match[2]!])));
}

/** A COPY's flags, sources and destination. */
function copyParts(args: string): { from?: string; sources: string[]; destination: string } {
  const words = args.split(' ');
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { ...(from && { from }), sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

describe('docker/Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8'));
  const [build, runtime] = stages as [Stage, Stage];

  it('has two stages: a node:20 build and a node:20-slim runtime', () => {
    assert.deepEqual(
      stages.map(({ image, name }) => ({ image, name })),
      [
        { image: 'node:20', name: 'build' },
        { image: 'node:20-slim', name: 'runtime' },
      ],
    );
  });

  it('builds with npm ci and npm run build', () => {
    const runs = of(build, 'RUN');
    assert.ok(
      runs.some((run) => /^npm ci\b/.test(run)),
      runs.join(' | '),
    );
    assert.ok(
      runs.some((run) => run === 'npm run build'),
      runs.join(' | '),
    );
  });

  it('copies only the bundle (and its source map) and the dashboard it serves into the runtime image', () => {
    assert.deepEqual(of(runtime, 'ADD'), []);
    const copies = of(runtime, 'COPY').map(copyParts);
    assert.equal(copies.length, 2);
    assert.ok(copies.every((copy) => copy.from === 'build'));
    assert.deepEqual(
      copies.flatMap((copy) => copy.sources),
      ['/src/dist/relay.js', '/src/dist/relay.js.map', '/src/dist/dashboard'],
    );
  });

  it('runs as a non-root user, exposes 8001, listens on all interfaces, serves by default', () => {
    const users = of(runtime, 'USER');
    assert.equal(users.length, 1);
    assert.ok(!['root', '0', '0:0'].includes(users[0]!), `USER ${users[0]}`);
    assert.deepEqual(of(runtime, 'EXPOSE'), ['8001']);
    assert.equal(envOf(runtime).WS_HOST, '0.0.0.0');
    assert.deepEqual(JSON.parse(of(runtime, 'CMD')[0]!), ['node', 'dist/relay.js', 'serve']);
  });

  it('checks /health with node (the slim image has no curl)', () => {
    const [healthcheck] = of(runtime, 'HEALTHCHECK');
    assert.ok(healthcheck);
    const command = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
    assert.equal(command[0], 'node');
    assert.match(command.join(' '), /\/health/);
  });

  it('.dockerignore is an allowlist that lets in what the build stage copies', () => {
    const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    assert.equal(lines[0], '*');
    for (const { sources } of of(build, 'COPY').map(copyParts)) {
      for (const source of sources)
        assert.ok(lines.includes(`!${source}`) || lines.includes(`!${source}/`), `.dockerignore keeps out ${source}`);
    }
  });

  describe('replayed without an engine', () => {
    let dir: string;
    let src: string;
    let app: string;

    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'tandem-image-'));
      src = join(dir, 'src');
      app = join(dir, 'app');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('the build stage produces dist/relay.js from only what it copies', async () => {
      mkdirSync(src);
      for (const { sources, destination } of of(build, 'COPY').map(copyParts)) {
        for (const source of sources) dockerCopy(join(ROOT, source), src, destination, source);
      }
      // What .dockerignore keeps out of the context is not there either.
      const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line && !line.startsWith('#') && !line.startsWith('!') && line !== '*');
      for (const path of ignored) rmSync(join(src, path), { recursive: true, force: true });
      // In place of `npm ci` (no registry access in tests): the checkout's installed modules.
      symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'), 'dir');
      for (const run of of(build, 'RUN').filter((command) => !/^npm ci\b/.test(command))) {
        const result = await runCommand('sh', ['-c', run], { cwd: src, timeoutMs: 120_000 });
        assert.equal(result.status, 0, `${run}: ${result.stderr}`);
      }
      readFileSync(join(src, 'dist', 'relay.js'));
    });

    it('the runtime stage serves from dist/relay.js alone and its HEALTHCHECK passes', async () => {
      for (const { sources, destination } of of(runtime, 'COPY').map(copyParts)) {
        for (const source of sources) dockerCopy(join(src, source.slice('/src/'.length)), app, destination, source);
      }
      const port = await freePort();
      // The image's environment, on loopback and a free port here; production needs a secret and a public URL.
      const env = {
        PATH: process.env.PATH ?? '',
        HOME: app,
        ...envOf(runtime),
        WS_HOST: '127.0.0.1',
        WS_PORT: String(port),
        AUTH_SECRET: TEST_SECRET,
        PUBLIC_URL: 'https://relay.example.com',
      };
      const [command, ...args] = JSON.parse(of(runtime, 'CMD')[0]!) as [string, ...string[]];
      const relay = spawn(command === 'node' ? process.execPath : command, args, { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      relay.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise((resolve) => relay.once('exit', resolve));
      const healthcheck = async () => {
        const [healthCommand, ...healthArgs] = JSON.parse(of(runtime, 'HEALTHCHECK')[0]!.replace(/^.*?CMD /, '')) as [string, ...string[]];
        return (
          await runCommand(healthCommand === 'node' ? process.execPath : healthCommand, healthArgs, { cwd: app, env, timeoutMs: 15_000 })
        ).status;
      };
      try {
        await waitUntil(
          async () => {
            if (relay.exitCode !== null) throw new Error(`the relay exited: ${stderr}`);
            return (await httpStatus(`http://127.0.0.1:${port}/health`, 1000)) === 200;
          },
          'the relay in the image layout',
          20_000,
          50,
        );
        assert.equal(await healthcheck(), 0);
        assert.equal(await httpStatus(`http://127.0.0.1:${port}/dashboard/`, 5000), 200, 'the dashboard page is in the image');
      } finally {
        relay.kill('SIGTERM');
        await exited;
      }
      assert.equal(await healthcheck(), 1, 'the health check fails once the relay is gone');
    });
  });
});

/**
 * `COPY source destination` as Docker does it, into `root`: a file goes to `destination` (into it
 * when it ends with `/`), a directory's contents go into `destination`.
 */
function dockerCopy(from: string, root: string, destination: string, source: string): void {
  if (statSync(from).isDirectory()) {
    cpSync(from, join(root, destination), { recursive: true });
    return;
  }
  const target = destination.endsWith('/') ? join(root, destination, basename(source)) : join(root, destination);
  mkdirSync(dirname(target), { recursive: true });
  cpSync(from, target);
}
