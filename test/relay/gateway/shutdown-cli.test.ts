import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { closeCodes } from '../../../protocol';
import { mintToken } from '../../../relay/auth/tokens';
import { ensureRelayBuilt, ROOT } from '../../support/cli';
import { openTestClient } from '../../support/relay-fixture';
import { within } from '../../support/wait';

const SECRET = 'cli-shutdown-secret-0123456789';

/** A port nobody listens on right now: bind to port 0, read it, let it go. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `node dist/relay.js serve` as a child process, with its JSON log lines. */
class RelayProcess {
  private output = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  }

  static async start(bundle: string, env: Record<string, string>): Promise<RelayProcess> {
    const child = spawn(process.execPath, [bundle, 'serve'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const relay = new RelayProcess(child);
    const listening = new Promise<void>((resolve, reject) => {
      const check = () => {
        if (relay.records().some((r) => r.msg === 'relay listening')) resolve();
      };
      child.stdout?.on('data', check);
      void relay.exited.then(({ code }) => reject(new Error(`the relay exited (${code}) before listening:\n${relay.output}`)));
    });
    await within(listening, 10_000, 'the relay process to listen');
    return relay;
  }

  get log(): string {
    return this.output;
  }

  /** The JSON log lines (anything else on the output is ignored). */
  records(): Array<Record<string, unknown>> {
    return this.output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}

describe('graceful shutdown of the relay process (`node dist/relay.js serve`)', () => {
  let bundle: string;
  before(() => {
    bundle = ensureRelayBuilt();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: says disconnect (shutdown) to clients, closes them with 1001 and exits 0`, async () => {
      const port = await freePort();
      const stateDir = await mkdtemp(join(tmpdir(), 'tandem-relay-cli-'));
      let relay: RelayProcess | undefined;
      try {
        relay = await RelayProcess.start(bundle, {
          HOME: stateDir,
          WS_HOST: '127.0.0.1',
          WS_PORT: String(port),
          AUTH_SECRET: SECRET,
          RELAY_STATE_DIR: stateDir,
          LOG_LEVEL: 'DEBUG',
        });
        const token = mintToken(SECRET, { user: 'alice', sessions: ['s1'], role: 'editor', ttl: '5m' });
        const client = await openTestClient(`ws://127.0.0.1:${port}/ws?token=${token}`);

        relay.kill(signal);
        const exit = await within(relay.exited, 10_000, `the relay to exit after ${signal}`);
        assert.deepEqual(exit, { code: 0, signal: null }, relay.log);
        const closed = await within(client.closed, 5000, 'the client to be closed');
        assert.equal(closed.code, closeCodes.GOING_AWAY);
        const disconnect = client.of('disconnect')[0];
        assert.equal(disconnect?.payload.reason, 'shutdown');
        assert.equal(disconnect.payload.reconnect, true);
        const messages = relay.records().map((r) => r.msg);
        assert.ok(messages.includes('signal received, draining'), relay.log);
        assert.ok(messages.includes('stopped'), relay.log);
        assert.ok(!relay.log.includes(token), 'the log never contains the token');
      } finally {
        if (relay?.running) relay.kill('SIGKILL');
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  }
});
