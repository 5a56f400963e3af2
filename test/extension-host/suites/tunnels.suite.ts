/**
 * Shared servers (issue 17, item 4) in VS Code, against a real relay, each side in turn. First
 * this window hosts: it shares a real HTTP server (with a `ws` WebSocket server on the same port)
 * through Tandem: Share Server, and the suite plays a guest with the extension's own TunnelGuest
 * on a RelayClient of its own. Then this window is the guest (Tandem: Join Session) and the suite
 * plays the host: `fetch` to this window's local port gets the host server's answers, a 1 MiB body
 * arrives byte-exact, a WebSocket echoes, and stopping the share (or leaving) closes the port.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect as tcpConnect } from 'node:net';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket, { WebSocketServer } from 'ws';
import { createNodeWsTransport, RelayClient, type SharedServer } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import { TunnelGuest } from '../../../extension/tunnels/tunnel-guest';
import { TunnelHost } from '../../../extension/tunnels/tunnel-host';
import { mintToken } from '../../../relay/auth/tokens';
import type { RelayProcess } from '../../support/relay-process';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { hostLiveSession } from '../support/hosted-session';
import { connectClient, createSession, eventually } from '../support/shared-folder';

interface App {
  port: number;
  big: Buffer;
  close(): Promise<void>;
}

/** A dev server: text at any path, 1 MiB of random bytes at /big, the SHA-256 of a POST body, a WebSocket echo. */
async function startApp(): Promise<App> {
  const big = randomBytes(1024 * 1024);
  const server: Server = createServer((request, response) => {
    if (request.url === '/big') {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': big.length });
      response.end(big);
    } else if (request.method === 'POST') {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => response.end(createHash('sha256').update(Buffer.concat(parts)).digest('hex')));
    } else {
      response.end(`hello from the host's ${request.url}`);
    }
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket) => socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
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

/** HTTP, a 1 MiB body, an upload and a WebSocket echo through `port`, the guest's side of a tunnel. */
async function exercise(port: number, app: App): Promise<void> {
  const base = `http://127.0.0.1:${port}`;
  assert.equal(await (await fetch(`${base}/index.html`)).text(), "hello from the host's /index.html");
  const body = Buffer.from(await (await fetch(`${base}/big`)).arrayBuffer());
  assert.equal(body.length, app.big.length);
  assert.ok(body.equals(app.big), 'the 1 MiB body arrives byte-exact');
  const upload = randomBytes(512 * 1024);
  assert.equal(
    await (await fetch(`${base}/upload`, { method: 'POST', body: upload })).text(),
    createHash('sha256').update(upload).digest('hex'),
  );
  const ws = new WebSocket(`ws://127.0.0.1:${port}/live`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
  ws.send('hot reload');
  assert.equal(await echoed, 'hot reload');
  ws.close();
}

suite('shared servers: this window as the host', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let app: App;
  let guestClient: RelayClient;
  let guest: TunnelGuest;

  suiteSetup(async () => {
    app = await startApp();
    ({ relay, api } = await hostLiveSession());
    const token = mintToken(relay.secret, { user: 'bob', sessions: [api.session.info!.sessionId], role: 'viewer', ttl: '1h' });
    guestClient = new RelayClient({ url: relay.url, token, transport: createNodeWsTransport(WebSocket) });
    guest = new TunnelGuest(guestClient);
    guestClient.connect();
    await eventually(
      () => guestClient.state === 'open',
      () => `the guest to connect (${guestClient.state})`,
    );
  });

  suiteTeardown(async () => {
    guest?.dispose();
    guestClient?.dispose();
    if (api?.session.isActive) await vscode.commands.executeCommand('tandem.endSession');
    api?.session.reset();
    await relay?.stop();
    await app?.close();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
  });

  test('Share Server refuses a port outside 1–65535 and says why', async () => {
    const refused = await vscode.commands.executeCommand<SharedServer | undefined>('tandem.shareServer', { port: 70000, name: 'web' });
    assert.equal(refused, undefined);
    assert.ok(api.notifier.shown.some((shown) => shown.severity === 'error' && shown.message.includes('1 to 65535')));
    assert.deepEqual(api.tunnels.entries, []);
  });

  test('a viewer gets the shared server on a port of its own: HTTP, a 1 MiB body, an upload, a WebSocket', async () => {
    const shared = await vscode.commands.executeCommand<SharedServer>('tandem.shareServer', { port: app.port, name: 'web' });
    assert.equal(shared.port, app.port);
    assert.deepEqual(
      api.tunnels.entries.map((entry) => [entry.server.name, entry.localPort]),
      [['web', app.port]],
    );
    await eventually(
      () => guest.servers[0]?.localPort !== undefined,
      () => `the guest to listen (${JSON.stringify(guest.servers)})`,
    );
    const port = guest.servers[0]!.localPort!;
    await exercise(port, app);
  });

  test('Stop Sharing Server closes the guest’s port; a late joiner gets the list', async () => {
    const port = guest.servers[0]!.localPort!;
    // Someone joining later is sent the list when they join.
    const token = mintToken(relay.secret, { user: 'carl', sessions: [api.session.info!.sessionId], role: 'editor', ttl: '1h' });
    const lateClient = new RelayClient({ url: relay.url, token, transport: createNodeWsTransport(WebSocket) });
    const late = new TunnelGuest(lateClient, { samePort: false });
    lateClient.connect();
    try {
      await eventually(
        () => late.servers.length === 1,
        () => 'the late joiner to get the list',
      );
      const shareId = api.tunnels.entries[0]!.server.share_id;
      assert.equal(await vscode.commands.executeCommand('tandem.stopSharingServer', shareId), true);
      assert.deepEqual(api.tunnels.entries, []);
      await eventually(
        () => guest.servers.length === 0 && late.servers.length === 0,
        () => 'the guests to drop the share',
      );
      await eventually(
        () => refuses(port),
        () => `port ${port} to refuse connections`,
      );
    } finally {
      late.dispose();
      lateClient.dispose();
    }
  });
});

suite('shared servers: this window as a guest', () => {
  let relay: TestRelay;
  let api: TandemApi;
  let app: App;
  let hostClient: RelayClient;
  let host: TunnelHost;

  suiteSetup(async () => {
    app = await startApp();
    relay = await startTestRelay();
    const created = await createSession(relay);
    hostClient = await connectClient(relay.url, created.host.token);
    host = new TunnelHost(hostClient);
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.viewer.link);
    await eventually(
      () => api.session.state === 'live',
      () => `the session to go live (${api.session.state})`,
    );
  });

  suiteTeardown(async () => {
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    host?.dispose();
    hostClient?.dispose();
    await relay?.stop();
    await app?.close();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
  });

  test('the host shares a server: a notification with Open in Browser, and fetch on this machine gets the host’s answers', async () => {
    host.share(app.port, 'web');
    await eventually(
      () => api.notifier.shown.some((shown) => shown.message.includes("shared server 'web'")),
      () => `the notification (${JSON.stringify(api.tunnels.entries)})`,
    );
    const shown = api.notifier.shown.find((s) => s.message.includes("shared server 'web'"))!;
    assert.deepEqual(shown.actions, ['Open in Browser']);
    const entry = api.tunnels.entries[0]!;
    assert.ok(entry.localPort, 'listening on this machine');
    assert.notEqual(entry.localPort, app.port, 'the host’s port is taken here (same machine), so another one');
    assert.ok(shown.message.includes(`127.0.0.1:${entry.localPort}`));
    await exercise(entry.localPort, app);
    // What Open Shared Server would open (asExternalUri: code-server may map it to its own proxy).
    const external = await api.tunnels.externalUri(entry);
    assert.ok(external, 'a URI to open');
  });

  test('stopping the share closes this machine’s port', async () => {
    const port = api.tunnels.entries[0]!.localPort!;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise((resolve) => ws.once('close', resolve));
    assert.ok(host.unshare(host.servers[0]!.share_id));
    await closed;
    await eventually(
      () => api.tunnels.entries.length === 0,
      () => 'the share to be gone here',
    );
    await eventually(
      () => refuses(port),
      () => `port ${port} to refuse connections`,
    );
  });

  test('leaving the session closes the shared servers’ ports', async () => {
    host.share(app.port, 'api');
    await eventually(
      () => api.tunnels.entries[0]?.localPort !== undefined,
      () => 'the listener',
    );
    const port = api.tunnels.entries[0]!.localPort!;
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/x`)).text(), "hello from the host's /x");
    await vscode.commands.executeCommand('tandem.leaveSession');
    await eventually(
      () => !api.session.isActive,
      () => 'left',
    );
    assert.deepEqual(api.tunnels.entries, []);
    await eventually(
      () => refuses(port),
      () => `port ${port} to refuse connections`,
    );
  });
});
