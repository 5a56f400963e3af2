/**
 * Shared servers end to end on a real relay, in plain Node: the host's TunnelHost and the guest's
 * TunnelGuest on RelayClients, a real HTTP server and a `ws` WebSocket server on the host's side,
 * `fetch` and a WebSocket client on the guest's local port.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import WebSocket, { WebSocketServer } from 'ws';
import { createNodeWsTransport, RelayClient, type Role } from '../../../protocol';
import { TunnelGuest } from '../../../extension/tunnels/tunnel-guest';
import { TunnelHost, validateShare } from '../../../extension/tunnels/tunnel-host';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

const transport = createNodeWsTransport(WebSocket);

async function connect(relay: TestRelay, user: string, role: Role): Promise<RelayClient> {
  const client = new RelayClient({ url: relay.url, token: relay.token({ user, role }), transport, reconnect: false });
  client.connect();
  await waitUntil(() => client.state === 'open', `${user} to connect`, 5000);
  return client;
}

/** An HTTP server with a 1 MiB body at /big, an echo of POST bodies, and a WebSocket echo on the same port. */
async function startApp(): Promise<{ server: Server; port: number; big: Buffer; close(): Promise<void> }> {
  const big = randomBytes(1024 * 1024);
  const server = createServer((request, response) => {
    if (request.url === '/big') {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      response.end(big);
    } else if (request.method === 'POST') {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => response.end(createHash('sha256').update(Buffer.concat(parts)).digest('hex')));
    } else {
      response.end(`hello from ${request.url}`);
    }
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    big,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('shared servers (TunnelHost and TunnelGuest on a real relay)', () => {
  let relay: TestRelay;
  const disposables: Array<{ dispose(): void }> = [];
  let app: Awaited<ReturnType<typeof startApp>>;
  beforeEach(async () => {
    relay = await startTestRelay();
    app = await startApp();
  });
  afterEach(async () => {
    for (const d of disposables.splice(0).reverse()) d.dispose();
    await app.close();
    await relay.stop();
  });

  async function pair(guestRole: Role = 'viewer') {
    const hostClient = await connect(relay, 'hana', 'host');
    const guestClient = await connect(relay, 'bob', guestRole);
    const host = new TunnelHost(hostClient);
    const guest = new TunnelGuest(guestClient);
    disposables.push(hostClient, guestClient, host, guest);
    return { host, guest, hostClient, guestClient };
  }

  it('serves HTTP (a 1 MiB body byte-exact, an upload) and a WebSocket echo through the tunnel; stop sharing closes it', async () => {
    const { host, guest } = await pair();
    const shared = host.share(app.port, 'web');
    await waitUntil(() => guest.servers.length === 1, 'the guest to see the share');
    await guest.ready();
    const local = guest.servers[0]!;
    assert.equal(local.server.share_id, shared.share_id);
    assert.ok(local.localPort, 'listening');
    assert.notEqual(local.localPort, app.port, 'the host’s port is taken on this machine, so another one');
    const base = `http://127.0.0.1:${local.localPort}`;

    assert.equal(await (await fetch(`${base}/hi`)).text(), 'hello from /hi');
    const body = Buffer.from(await (await fetch(`${base}/big`)).arrayBuffer());
    assert.equal(body.length, app.big.length);
    assert.ok(body.equals(app.big), 'the 1 MiB body arrives byte-exact');
    const upload = randomBytes(700 * 1024);
    const digest = await (await fetch(`${base}/upload`, { method: 'POST', body: upload })).text();
    assert.equal(digest, createHash('sha256').update(upload).digest('hex'), 'the guest’s upload arrives whole (its credit too)');

    const ws = new WebSocket(`ws://127.0.0.1:${local.localPort}/socket`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('ping through the relay');
    assert.equal(await echoed, 'ping through the relay');

    // Several requests at once, each its own stream.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => fetch(`${base}/n${i}`).then((r) => r.text())));
    assert.deepEqual(
      answers,
      Array.from({ length: 8 }, (_, i) => `hello from /n${i}`),
    );

    const wsClosed = new Promise((resolve) => ws.once('close', resolve));
    assert.ok(host.unshare(shared.share_id));
    await wsClosed;
    await waitUntil(() => guest.servers.length === 0, 'the guest to drop the share');
    await waitUntil(() => refuses(local.localPort!), 'the local port to refuse connections');
  });

  it('refuses a share id the host does not have, and closes streams when the host’s server is not listening', async () => {
    const { host, guest, guestClient } = await pair('editor');
    const shared = host.share(app.port, 'web');
    await waitUntil(() => guest.servers[0]?.localPort !== undefined, 'the guest’s listener');
    const closes: string[] = [];
    guestClient.on('tunnel.close', (close) => closes.push(close.reason));
    guestClient.send('tunnel.open', { stream_id: 'made-up', share_id: 'nope-1234' });
    await waitUntil(() => closes.includes('unshared'), 'the host to refuse the unknown share');

    await app.close();
    const port = guest.servers[0]!.localPort!;
    const refused = await fetch(`http://127.0.0.1:${port}/`).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'the request fails: the host could not connect');
    await waitUntil(() => closes.includes('refused'), 'a refused close');
    assert.equal(host.streamCounts().get(shared.share_id) ?? 0, 0);
    app = await startApp();
  });

  it('closes a stream that hits the session’s byte limit, on both sides, and the tunnel still serves within it', async () => {
    await relay.stop();
    relay = await startTestRelay({ TUNNEL_SESSION_BYTES_PER_MINUTE: String(512 * 1024) });
    const { host, guest } = await pair();
    host.share(app.port, 'web');
    await waitUntil(() => guest.servers[0]?.localPort !== undefined, 'the guest’s listener');
    const base = `http://127.0.0.1:${guest.servers[0]!.localPort!}`;
    assert.equal(await (await fetch(`${base}/small`)).text(), 'hello from /small');
    const outcome = await fetch(`${base}/big`)
      .then(async (response) => (await response.arrayBuffer()).byteLength)
      .catch((error: Error) => error.message);
    assert.notEqual(outcome, app.big.length, 'the 1 MiB body cannot pass a 512 KiB minute');
    await waitUntil(() => host.streamCounts().size === 0 && guest.servers[0]!.streams === 0, 'both sides to close the stream');
  });

  it('closes the guest’s listeners when the host leaves, and opens them again when it shares after coming back', async () => {
    const { host, guest, hostClient } = await pair();
    host.share(app.port, 'web');
    await waitUntil(() => guest.servers[0]?.localPort !== undefined, 'the guest’s listener');
    const port = guest.servers[0]!.localPort!;
    hostClient.dispose();
    await waitUntil(() => guest.servers.length === 0, 'the guest to drop the host’s servers');
    await waitUntil(() => refuses(port), 'the port to refuse connections');
    const back = await connect(relay, 'hana', 'host');
    disposables.push(back);
    const again = new TunnelHost(back);
    disposables.push(again);
    again.share(app.port, 'web');
    await waitUntil(() => guest.servers[0]?.localPort !== undefined, 'the guest’s listener again');
    assert.equal(await (await fetch(`http://127.0.0.1:${guest.servers[0]!.localPort!}/back`)).text(), 'hello from /back');
  });

  it('sends no list while the host has never shared anything; once it has, the whole list to each joiner', async () => {
    const { host } = await pair();
    const late = await connect(relay, 'carl', 'editor');
    disposables.push(late);
    const lists: number[] = [];
    late.on('tunnel.shared', ({ servers }) => lists.push(servers.length));
    const later = await connect(relay, 'dora', 'viewer');
    disposables.push(later);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(lists, [], 'nothing while nothing is shared');
    const shared = host.share(app.port, 'web');
    host.unshare(shared.share_id);
    await waitUntil(() => lists.length === 2, 'the list after the share and after the unshare');
    disposables.push(await connect(relay, 'emil', 'viewer'));
    await waitUntil(() => lists.length === 3, 'the (empty) list again for a joiner');
    assert.deepEqual(lists, [1, 0, 0]);
  });

  it('stays under the relay’s message rate (no frame dropped as RATE_LIMITED): bodies arrive whole under a low limit', async () => {
    await relay.stop();
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '60' });
    const { host, guest, hostClient, guestClient } = await pair();
    const errors: string[] = [];
    for (const client of [hostClient, guestClient]) client.on('error', (error) => errors.push(error.code));
    host.share(app.port, 'web');
    await waitUntil(() => guest.servers[0]?.localPort !== undefined, 'the guest’s listener');
    const base = `http://127.0.0.1:${guest.servers[0]!.localPort!}`;
    const [first, second, ...small] = await Promise.all([
      fetch(`${base}/big`).then(async (r) => Buffer.from(await r.arrayBuffer())),
      fetch(`${base}/big`).then(async (r) => Buffer.from(await r.arrayBuffer())),
      ...Array.from({ length: 6 }, (_, i) => fetch(`${base}/s${i}`).then((r) => r.text())),
    ]);
    assert.ok(first!.equals(app.big) && second!.equals(app.big), 'both bodies byte-exact');
    assert.deepEqual(
      small,
      Array.from({ length: 6 }, (_, i) => `hello from /s${i}`),
    );
    assert.deepEqual(errors, []);
  });

  it('validates what the host shares', () => {
    assert.match(validateShare(0, 'web', [])!, /1 to 65535/);
    assert.match(validateShare(65536, 'web', [])!, /1 to 65535/);
    assert.match(validateShare(3.5, 'web', [])!, /1 to 65535/);
    assert.match(validateShare(3000, '  ', [])!, /name/);
    assert.match(validateShare(3000, 'web', [{ share_id: 'a', name: 'x', port: 3000 }])!, /shared already/);
    assert.equal(validateShare(3000, 'web', []), undefined);
  });
});
