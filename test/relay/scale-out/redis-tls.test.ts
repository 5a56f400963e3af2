import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { ensureRelayBuilt, runRelayCli } from '../../support/cli';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, httpRequest, jsonBody, openTestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { makeTestCertificates, type TestCertificates } from '../../support/test-certificates';
import { EditingRun } from '../documents/editing-run';

// Needs openssl, /usr/bin/redis-server (built with TLS) and redis-cli: TLS-only Redis servers and a
// TLS Redis Cluster of the test's own (free loopback ports, a throwaway CA), and the relay as a
// process (`node dist/relay.js serve`) configured through its environment, as an operator would.
describe('relays on Redis over TLS (REDIS_TLS_*_FILE, REDIS_CLUSTER_TLS)', () => {
  let pki: TestCertificates;
  let stranger: TestCertificates;
  const relays: RelayProcess[] = [];
  const runs: EditingRun[] = [];
  const start = async (settings: Record<string, string>) => {
    const relay = await RelayProcess.start({ WS_MAX_MESSAGES_PER_SECOND: '100000', ...settings });
    relays.push(relay);
    return relay;
  };
  /** Two editors on `endpoints` make 20 edits; every relay's copy converges on every edit once. */
  const editsConverge = async (endpoints: RelayProcess[], seed: number, what: string) => {
    const run = new EditingRun(endpoints, { seed });
    runs.push(run);
    await run.start(2);
    await run.further(20, what);
    await run.stop();
    await run.assertConverged();
  };

  before(async () => {
    ensureRelayBuilt();
    [pki, stranger] = await Promise.all([makeTestCertificates(), makeTestCertificates()]);
  });
  afterEach(async (t) => {
    for (const run of runs.splice(0)) run.dispose();
    for (const relay of relays.splice(0)) {
      if ((t as { passed?: boolean }).passed === false)
        process.stderr.write(`--- relay :${relay.port} ---\n${relay.log.slice(-4000)}\n---\n`);
      await relay.stop();
    }
  });
  after(() => {
    pki?.dispose();
    stranger?.dispose();
  });

  describe('one Redis over rediss://', () => {
    let redis: RedisServer;
    before(async () => {
      redis = await startRedisServer({ tls: { certificates: pki } });
    });
    afterEach((t) => redis.printLogIfFailed(t));
    after(async () => {
      await redis?.dispose();
    });

    it('with REDIS_TLS_CA_FILE the relay starts, Redis is up, and two clients chat and edit through it', async () => {
      const relay = await start({ RELAY_ID: 'tls-one', REDIS_URL: redis.url, REDIS_TLS_CA_FILE: pki.caFile });
      const health = await httpRequest(`${relay.httpUrl}/health`, {}, 10_000);
      assert.equal(health.status, 200, health.text);
      assert.equal(jsonBody<{ checks: { redis: { status: string } } }>(health).checks.redis.status, 'up');
      await chatCrosses(relay, relay);
      await editsConverge([relay], 9300, 'edits over TLS');
    });

    it('a CA that did not sign the server’s certificate: the relay exits at start with one line saying it is TLS', () => {
      const result = runRelayCli(['serve'], {
        AUTH_SECRET: 'tls-test-secret-0123456789',
        WS_PORT: '0',
        REDIS_URL: redis.url,
        REDIS_TLS_CA_FILE: stranger.caFile,
      });
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(
        result.stderr,
        /^relay: REDIS_URL: Redis at rediss:\/\/127\.0\.0\.1:\d+\/? failed TLS: self-signed certificate in certificate chain /,
      );
      assert.ok(
        result.stderr.trim().endsWith("(the relay does not trust the server's certificate: it is not signed by a CA in REDIS_TLS_CA_FILE)"),
        result.stderr,
      );
    });
  });

  describe('Redis Cluster over TLS, checking client certificates (tls-auth-clients yes)', () => {
    let cluster: RedisCluster;
    const clusterSettings = () => ({
      REDIS_CLUSTER_NODES: cluster.nodesSetting,
      REDIS_CLUSTER_TLS: 'true',
      REDIS_TLS_CA_FILE: pki.caFile,
    });
    const clientCertificate = () => ({ REDIS_TLS_CERT_FILE: pki.clientCertFile, REDIS_TLS_KEY_FILE: pki.clientKeyFile });

    before(async () => {
      cluster = await startRedisCluster({ tls: { certificates: pki, authClients: true } });
    });
    afterEach((t) => {
      for (const server of cluster.servers) server.printLogIfFailed(t);
    });
    after(async () => {
      await cluster?.dispose();
    });

    it('with the client certificate: two relays, an edit and a chat message cross from one relay’s client to the other’s', async () => {
      // Relay a finds the cluster by a DNS name (the certificate names localhost), b by IP addresses.
      const [first] = cluster.startupNodes;
      const a = await start({
        ...clusterSettings(),
        ...clientCertificate(),
        RELAY_ID: 'tls-a',
        REDIS_CLUSTER_NODES: `localhost:${first!.port}`,
      });
      const b = await start({ ...clusterSettings(), ...clientCertificate(), RELAY_ID: 'tls-b', AUTH_SECRET: a.secret });
      await chatCrosses(a, b);
      await editsConverge([a, b], 9400, 'edits across the relays');
    });

    it('without a client certificate: the relay exits at start with one line naming the settings', () => {
      const result = runRelayCli(['serve'], { AUTH_SECRET: 'tls-test-secret-0123456789', WS_PORT: '0', ...clusterSettings() });
      assert.equal(result.status, 2, result.stderr);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.match(result.stderr, /^relay: REDIS_CLUSTER_NODES: Redis Cluster at [\d.:,]+ failed TLS: tlsv13 alert certificate required /);
      assert.match(
        result.stderr,
        /\(the server wants a client certificate signed by a CA it trusts: REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE\) \[node [\d.:]+\]$/m,
      );
    });
  });
});

/** A chat message from a client of `from` reaches a client of `to`, and one back. */
async function chatCrosses(from: RelayProcess, to: RelayProcess): Promise<void> {
  const sessions = [`tls-chat-${process.pid}-${from.port}-${to.port}`];
  const alice = await openTestClient(`${from.url}?token=${from.token({ user: 'alice', sessions })}`, {}, 10_000);
  const bob = await openTestClient(`${to.url}?token=${to.token({ user: 'bob', sessions })}`, {}, 10_000);
  try {
    alice.send(clientFrame('chat.message', { content: 'hello over TLS' }));
    await bob.next('chat.message', (frame) => frame.payload.content === 'hello over TLS', 10_000);
    bob.send(clientFrame('chat.message', { content: 'and back' }));
    await alice.next('chat.message', (frame) => frame.payload.content === 'and back', 10_000);
  } finally {
    alice.close();
    bob.close();
  }
}
