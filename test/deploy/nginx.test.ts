/**
 * A real nginx running docker/nginx.conf (rendered for loopback ports, TLS with a throwaway
 * certificate) in front of two relays from the bundle: WebSocket upgrades, round robin,
 * failover, REST, forwarded headers, the redirect server and the access log; and the optional
 * session affinity (its hash line on).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type WebSocket from 'ws';
import { mintPersonalToken, mintToken } from '../../relay/auth/tokens';
import { readNginxTemplate } from '../../relay/cli/cluster/nginx-config';
import { ensureCertificate } from '../../relay/cli/cluster/tls';
import { httpGet } from '../../relay/cli/cluster/probes';
import { clientFrame, openTestClient, type TestClient } from '../support/relay-fixture';
import { waitUntil } from '../support/wait';
import type { RelayProcess } from '../support/relay-process';
import { freePort, NginxProcess, requireBinary, startRelays, TEST_SECRET } from './helpers';

describe('nginx (docker/nginx.conf) in front of two relays', () => {
  let dir: string;
  let ca: Buffer;
  let relays: RelayProcess[] = [];
  let nginx: NginxProcess | undefined;
  let httpPort: number;
  let httpsPort: number;
  const clients: TestClient[] = [];

  const token = (user: string) => mintToken(TEST_SECRET, { user, sessions: ['s1'], role: 'editor', ttl: '5m' });
  const wssUrl = (user: string) => `wss://127.0.0.1:${httpsPort}/ws?token=${token(user)}`;
  const connect = async (user: string, options: WebSocket.ClientOptions = {}) => {
    const client = await openTestClient(wssUrl(user), { ca, ...options }, 10_000);
    clients.push(client);
    return client;
  };

  before(async () => {
    requireBinary('nginx', 'nginx');
    requireBinary('openssl', 'openssl');
    dir = mkdtempSync(join(tmpdir(), 'tandem-nginx-'));
    const certificate = ensureCertificate(join(dir, 'certs'), 1);
    ca = readFileSync(certificate.certificate);
    // A short heartbeat: an idle connection then needs its pings and pongs to cross nginx.
    relays = await startRelays(['relay-a', 'relay-b'], { WS_HEARTBEAT_INTERVAL_MS: '500' });
    [httpPort, httpsPort] = [await freePort(), await freePort()];
    nginx = await NginxProcess.start(
      join(dir, 'nginx'),
      {
        relays: relays.map((relay) => relay.address),
        listen: { host: '127.0.0.1', port: httpsPort },
        tls: { ...certificate, redirectPort: httpPort },
      },
      () => `http://127.0.0.1:${httpPort}/health`,
    );
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await nginx?.stop();
    await Promise.all(relays.map((relay) => relay.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('upgrades WebSockets over TLS and spreads new connections round robin over both relays', async () => {
    const opened = [];
    for (let i = 0; i < 6; i++) opened.push(await connect(`user-${i}`));
    const relayIds = opened.map(
      (client) => client.frames[0]!.event_type === 'connect' && (client.frames[0]!.payload as { relay_id: string }).relay_id,
    );
    for (const relay of relays) {
      assert.ok(relayIds.filter((id) => id === relay.id).length >= 2, `${relay.id} got too few of ${relayIds.join(', ')}`);
    }
    // Frames flow both ways through the proxy, unbuffered.
    const [first] = opened;
    first!.send(clientFrame('chat.message', { content: 'through nginx' }));
    const echo = await first!.next('chat.message', (frame) => frame.payload.content === 'through nginx', 5000);
    assert.equal(echo.user_id, 'user-0');
  });

  it('keeps an idle WebSocket open across heartbeats: pings and pongs cross nginx', async () => {
    const client = await connect('idle');
    // The relays ping every 500 ms and close a peer silent for two intervals.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(client.socket.readyState, client.socket.OPEN);
    assert.equal(client.of('disconnect').length, 0);
  });

  it('proxies REST and health', async () => {
    const health = await httpsGet('/health');
    assert.equal(health.status, 200);
    const body = JSON.parse(health.body) as { status: string; relay_id: string };
    assert.equal(body.status, 'ok');
    assert.ok(relays.some((relay) => relay.id === body.relay_id));
    const stats = await httpsGet('/ws/stats');
    assert.equal(stats.status, 200);
    assert.ok('connections' in (JSON.parse(stats.body) as object));
    assert.equal((await httpsGet('/metrics')).status, 404, '/metrics is for Prometheus on the internal network');
  });

  it('forwards scheme and host: invite links carry the address clients used (TRUST_PROXY=true)', async () => {
    const personal = mintPersonalToken(TEST_SECRET, { user: 'alice', ttl: '5m' });
    const response = await httpsRequest(
      'POST',
      '/api/sessions',
      { Authorization: `Bearer ${personal}`, 'Content-Type': 'application/json' },
      '{}',
    );
    assert.equal(response.status, 201, response.body);
    const session = JSON.parse(response.body) as { relay_url: string; ws_url: string; invites: { editor: { link: string } } };
    assert.equal(session.relay_url, `https://127.0.0.1:${httpsPort}`);
    assert.equal(session.ws_url, `wss://127.0.0.1:${httpsPort}/ws`);
    assert.equal(new URL(session.invites.editor.link).searchParams.get('relay'), `https://127.0.0.1:${httpsPort}`);
  });

  it('sets X-Forwarded-For to the client address, replacing a forged one', async () => {
    // From 127.0.0.2 (all of 127/8 is loopback): the relay's own peer is nginx on 127.0.0.1.
    const client = await connect('forger', { localAddress: '127.0.0.2', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    const connectionId = (client.frames[0]!.payload as { connection_id: string }).connection_id;
    // The relay's log line travels through a pipe: it may arrive after the connect frame.
    const record = () => relays.flatMap((relay) => relay.records('connected')).find((entry) => entry.connection === connectionId);
    await waitUntil(() => record() !== undefined, 'the relay to log the connection', 5000, 20);
    assert.equal(record()!.address, '127.0.0.2');
  });

  it('redirects plain HTTP to HTTPS, except /health for load-balancer probes', async () => {
    const redirect = await httpGetRaw(`http://127.0.0.1:${httpPort}/ws/stats?x=1`);
    assert.equal(redirect.status, 301);
    assert.equal(redirect.location, 'https://127.0.0.1/ws/stats?x=1');
    assert.equal((await httpGet(`http://127.0.0.1:${httpPort}/health`)).status, 200);
  });

  it('never writes the token to its access log', async () => {
    // A WebSocket is logged when it ends.
    const client = await connect('logged');
    client.close();
    await client.closed;
    const read = () => readFileSync(nginx!.accessLog, 'utf8');
    await waitUntil(() => /"GET \/ws HTTP\/1\.1" 101/.test(read()), 'a /ws line in the access log', 5000, 20);
    const log = read();
    assert.doesNotMatch(log, /token=/);
    assert.doesNotMatch(log, new RegExp(token('user-0').split('.')[0]!));
  });

  it('sends new connections to the surviving relay when one is killed', async () => {
    const [victim, survivor] = relays as [RelayProcess, RelayProcess];
    const onVictim = clients.filter(
      (client) =>
        (client.frames[0]!.payload as { relay_id: string }).relay_id === victim.id && client.socket.readyState === client.socket.OPEN,
    );
    assert.ok(onVictim.length > 0);
    await victim.kill();
    // nginx closes the client side once the relay side is gone.
    await Promise.all(onVictim.map((client) => client.closed));
    for (let i = 0; i < 4; i++) {
      const client = await connect(`after-${i}`);
      assert.equal((client.frames[0]!.payload as { relay_id: string }).relay_id, survivor.id);
    }
    const health = await httpsGet('/health');
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { relay_id: string }).relay_id, survivor.id);
  });

  function httpsGet(path: string) {
    return httpsRequest('GET', path, {});
  }

  function httpsRequest(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: httpsPort, path, method, headers, ca, timeout: 5000 }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.once('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
      });
      req.once('timeout', () => req.destroy(new Error(`no answer to ${method} ${path}`)));
      req.once('error', reject);
      req.end(body);
    });
  }
});

describe('nginx with session affinity (docker/nginx.conf with its hash line on)', () => {
  const AFFINITY = '# hash $tandem_affinity consistent;';
  let dir: string;
  let relays: RelayProcess[] = [];
  let nginx: NginxProcess | undefined;
  let port: number;
  const clients: TestClient[] = [];

  const connect = async (user: string, session: string) => {
    const token = mintToken(TEST_SECRET, { user, sessions: [session], role: 'editor', ttl: '5m' });
    const client = await openTestClient(`ws://127.0.0.1:${port}/ws?token=${token}&session=${session}`, {}, 10_000);
    clients.push(client);
    return client;
  };
  const relayOf = (client: TestClient) => (client.frames[0]!.payload as { relay_id: string }).relay_id;

  before(async () => {
    requireBinary('nginx', 'nginx');
    const template = readNginxTemplate();
    assert.ok(template.includes(AFFINITY), 'the template has the affinity line, commented out');
    dir = mkdtempSync(join(tmpdir(), 'tandem-nginx-affinity-'));
    relays = await startRelays(['relay-a', 'relay-b']);
    port = await freePort();
    nginx = await NginxProcess.start(
      join(dir, 'nginx'),
      { relays: relays.map((relay) => relay.address), listen: { host: '127.0.0.1', port } },
      () => `http://127.0.0.1:${port}/health`,
      template.replace(AFFINITY, AFFINITY.slice(2)),
    );
  });

  after(async () => {
    for (const client of clients) client.socket.terminate();
    await nginx?.stop();
    await Promise.all(relays.map((relay) => relay.stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends every connection of a session to one relay, and the sessions over both', async () => {
    const bySession = new Map<string, Set<string>>();
    for (let s = 0; s < 16; s++) {
      for (let i = 0; i < 3; i++) {
        const client = await connect(`user-${s}-${i}`, `s${s}`);
        bySession.set(`s${s}`, (bySession.get(`s${s}`) ?? new Set()).add(relayOf(client)));
      }
    }
    for (const [session, relayIds] of bySession) assert.equal(relayIds.size, 1, `${session} on ${[...relayIds].join(', ')}`);
    // Consistent hashing of 16 sessions over two relays: all on one has a chance of about 1 in 30,000.
    assert.equal(new Set([...bySession.values()].flatMap((ids) => [...ids])).size, 2, 'the sessions spread over both relays');
  });

  it('moves a session to the other relay when its relay fails', async () => {
    const first = await connect('mover', 's0');
    const victim = relays.find((relay) => relay.id === relayOf(first))!;
    const survivor = relays.find((relay) => relay !== victim)!;
    await victim.kill();
    await first.closed;
    const again = await connect('mover', 's0');
    assert.equal(relayOf(again), survivor.id);
    const other = await connect('mover-2', 's0');
    assert.equal(relayOf(other), survivor.id, 'the session stays together on its new relay');
  });
});

/** A GET that reports a redirect instead of following it. */
async function httpGetRaw(url: string): Promise<{ status: number; location: string | undefined }> {
  const { get } = await import('node:http');
  return new Promise((resolve, reject) => {
    get(url, { timeout: 5000 }, (response) => {
      response.resume();
      resolve({ status: response.statusCode ?? 0, location: response.headers.location });
    }).once('error', reject);
  });
}
