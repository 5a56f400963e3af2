import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import type { RedisTlsOptions } from '../../../relay/config/redis-tls';
import { type RedisConnections, RedisConnections as Connections } from '../../../relay/redis/redis-connection';
import { type RedisCluster, startRedisCluster } from '../../support/redis-cluster';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { makeTestCertificates, type TestCertificates } from '../../support/test-certificates';

// Needs openssl, /usr/bin/redis-server (built with TLS) and redis-cli: TLS-only servers of the
// test's own on free loopback ports, with a throwaway CA. `RedisConnections` as the relay opens
// them (relay/redis/redis-connection.ts); the relay process itself: test/relay/scale-out/redis-tls.test.ts.
/** Rejects with an error whose message (without the error's name) matches `expected` and ends with `end`. */
async function refused(promise: Promise<unknown>, expected: RegExp, end = ''): Promise<void> {
  await assert.rejects(promise, (error: Error) => {
    assert.match(error.message, expected);
    assert.ok(error.message.endsWith(end), `${JSON.stringify(error.message)} should end with ${JSON.stringify(end)}`);
    return true;
  });
}

const UNTRUSTED = "self-signed certificate in certificate chain (the relay does not trust the server's certificate: ";

describe('TLS to Redis (RedisConnections)', () => {
  let pki: TestCertificates;
  /** Another CA and its certificates: trusted by nobody here. */
  let stranger: TestCertificates;
  const servers: RedisServer[] = [];
  const opened: RedisConnections[] = [];
  /** The CA and client certificate as the config holds them (PEM text). */
  const files = (certificates: TestCertificates, client = true): RedisTlsOptions => ({
    ca: readFileSync(certificates.caFile, 'utf8'),
    ...(client && { cert: readFileSync(certificates.clientCertFile, 'utf8'), key: readFileSync(certificates.clientKeyFile, 'utf8') }),
  });
  const open = async (settings: {
    redisUrl?: string;
    redisClusterNodes?: Array<{ host: string; port: number }>;
    redisTls?: RedisTlsOptions;
  }) => {
    const redis = await Connections.configured(
      { redisUrl: settings.redisUrl, redisClusterNodes: settings.redisClusterNodes, redisTls: settings.redisTls },
      { name: 'tls-check', connectTimeoutMs: 2000 },
    );
    opened.push(redis!);
    return redis!;
  };

  before(async () => {
    [pki, stranger] = await Promise.all([makeTestCertificates(), makeTestCertificates()]);
  });
  afterEach(async (t) => {
    for (const redis of opened.splice(0)) await redis.close();
    for (const server of servers) server.printLogIfFailed(t);
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.dispose()));
    pki?.dispose();
    stranger?.dispose();
  });

  describe('one Redis, checking client certificates (tls-auth-clients yes)', () => {
    let server: RedisServer;
    before(async () => {
      server = await startRedisServer({ tls: { certificates: pki, authClients: true } });
      servers.push(server);
    });

    it('works over rediss:// with the CA and the client certificate', async () => {
      const redis = await open({ redisUrl: server.url, redisTls: files(pki) });
      await redis.command.set('tls:key', 'over TLS');
      assert.equal(await redis.command.get('tls:key'), 'over TLS');
    });

    it('without a client certificate, or with one it does not trust: refused at once, saying it is TLS and what to set', async () => {
      await refused(
        open({ redisUrl: server.url, redisTls: files(pki, false) }),
        new RegExp(
          `^REDIS_URL: Redis at rediss://127\\.0\\.0\\.1:${server.port}/? failed TLS: tlsv13 alert certificate required ` +
            '\\(the server wants a client certificate signed by a CA it trusts: REDIS_TLS_CERT_FILE, REDIS_TLS_KEY_FILE\\)$',
        ),
      );
      await refused(
        open({ redisUrl: server.url, redisTls: { ...files(stranger), ca: files(pki).ca } }),
        /^REDIS_URL: Redis at \S+ failed TLS: tlsv1 alert unknown ca \(the server wants a client certificate signed by a CA it trusts/,
      );
    });

    it('a server certificate from a CA the relay does not trust: refused at once, naming REDIS_TLS_CA_FILE', async () => {
      await refused(
        open({ redisUrl: server.url, redisTls: files(stranger) }),
        /^REDIS_URL: Redis at \S+ failed TLS: self-signed/,
        `failed TLS: ${UNTRUSTED}it is not signed by a CA in REDIS_TLS_CA_FILE)`,
      );
      // The system's CAs (no REDIS_TLS_CA_FILE) do not know the test CA either.
      await refused(
        open({ redisUrl: server.url, redisTls: {} }),
        /failed TLS: self-signed/,
        `failed TLS: ${UNTRUSTED}set REDIS_TLS_CA_FILE to the CA that signed it)`,
      );
    });

    it('a plain redis:// URL for the TLS port: not reachable, with a hint', async () => {
      await refused(
        open({ redisUrl: `redis://127.0.0.1:${server.port}`, redisTls: files(pki) }),
        /^REDIS_URL: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is not reachable: .*\(does it take TLS only\? Then use a rediss:\/\/ URL\)$/,
      );
    });
  });

  it('a server certificate for another name: refused, saying the certificate does not name the address', async () => {
    const elsewhere = await makeTestCertificates({ serverNames: ['DNS:redis.example'] });
    try {
      const server = await startRedisServer({ tls: { certificates: elsewhere } });
      servers.push(server);
      await refused(
        open({ redisUrl: server.url, redisTls: files(elsewhere, false) }),
        /failed TLS: Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list: /,
        "(the server's certificate does not name the host or IP address the relay connects to)",
      );
    } finally {
      elsewhere.dispose();
    }
  });

  it('a rediss:// URL for a plain port: refused, asking whether the port takes TLS', async () => {
    const plain = await startRedisServer();
    servers.push(plain);
    await refused(
      open({ redisUrl: `rediss://127.0.0.1:${plain.port}`, redisTls: files(pki) }),
      /failed TLS: connected, but no TLS handshake within \d+ ms \(does the server take TLS on this port\?\)$/,
    );
  });

  describe('Redis Cluster over TLS (3 masters; cluster bus and replication on TLS too)', () => {
    let cluster: RedisCluster;
    before(async () => {
      cluster = await startRedisCluster({ masters: 3, replicas: 0, tls: { certificates: pki } });
    });
    after(async () => {
      await cluster?.dispose();
    });

    it('found from one node by its DNS name: the others learnt from CLUSTER SLOTS get TLS too, checked by their IP address', async () => {
      const [first] = cluster.startupNodes;
      const redis = await open({ redisClusterNodes: [{ host: 'localhost', port: first!.port }], redisTls: files(pki, false) });
      const masters = redis.masters();
      assert.equal(masters.length, 3);
      for (const master of masters) assert.equal(master.options.host, '127.0.0.1');
      assert.ok(masters.every((master) => master.options.tls !== undefined));
      // A key in each master's slots, through the cluster client (commands routed by slot).
      for (const key of ['{a}', '{b}', '{c}', '{d}', '{e}']) await redis.command.set(`tls:${key}`, key);
      for (const key of ['{a}', '{b}', '{c}', '{d}', '{e}']) assert.equal(await redis.command.get(`tls:${key}`), key);
      const keys = await Promise.all(masters.map((master) => master.dbsize()));
      assert.ok(keys.filter((n) => n > 0).length >= 2, `keys on the masters: ${keys.join(', ')}`);
    });

    it('a CA that did not sign the nodes’ certificates: refused at once, naming TLS', async () => {
      await refused(
        open({ redisClusterNodes: cluster.startupNodes, redisTls: files(stranger) }),
        // Whichever node's handshake failed first is named.
        /^REDIS_CLUSTER_NODES: Redis Cluster at 127\.0\.0\.1:\d+,\S+ failed TLS: self-signed .*\) \[node 127\.0\.0\.1:\d+\]$/,
      );
      await refused(
        open({ redisClusterNodes: cluster.startupNodes.slice(0, 1), redisTls: files(stranger) }),
        /^REDIS_CLUSTER_NODES: Redis Cluster at 127\.0\.0\.1:\d+ failed TLS: /,
        `failed TLS: ${UNTRUSTED}it is not signed by a CA in REDIS_TLS_CA_FILE) [node 127.0.0.1:${cluster.startupNodes[0]!.port}]`,
      );
    });

    it('without REDIS_CLUSTER_TLS: not reachable, with a hint', async () => {
      await refused(
        open({ redisClusterNodes: cluster.startupNodes.slice(0, 1) }),
        /^REDIS_CLUSTER_NODES: Redis Cluster at \S+ is not reachable: .*\(does it take TLS only\? Then set REDIS_CLUSTER_TLS=true\)$/,
      );
    });
  });
});
