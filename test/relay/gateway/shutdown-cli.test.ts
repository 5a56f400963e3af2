import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { closeCodes } from '../../../protocol';
import { ensureRelayBuilt } from '../../support/cli';
import { openTestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { within } from '../../support/wait';

describe('graceful shutdown of the relay process (`node dist/relay.js serve`)', () => {
  before(() => {
    ensureRelayBuilt();
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`on ${signal}: says disconnect (shutdown) to clients, closes them with 1001 and exits 0`, async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'tandem-relay-cli-'));
      let relay: RelayProcess | undefined;
      try {
        relay = await RelayProcess.start({
          HOME: stateDir,
          RELAY_STATE_DIR: stateDir,
          LOG_LEVEL: 'DEBUG',
          // The relay's own default: the drain is not cut short, the client has time to close.
          SHUTDOWN_TIMEOUT_MS: '10000',
        });
        const token = relay.token({ user: 'alice', ttl: '5m' });
        const client = await openTestClient(`${relay.url}?token=${token}`);

        // stop() kills (SIGKILL) a relay still there after 10 s: that exit fails the assertion.
        const exit = await relay.stop(signal);
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
        await relay?.kill();
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  }
});
