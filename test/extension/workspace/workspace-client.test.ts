/**
 * The guest's request client against a real relay and a host made of a plain RelayClient that
 * answers from memory the way the extension's host service does (pulled snapshots, pushed pieces,
 * using the same Transfers and chunk helpers). The VS Code side is covered by the extension-host
 * suites; this is the wire behaviour: pieces, windows, pacing, timeouts and errors.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient, type Role, type WorkspaceResult } from '../../../protocol';
import { fromBase64Pieces, Pacer, pieceBytes, splitByJsonSize, toBase64Pieces } from '../../../extension/workspace/chunks';
import { Transfers } from '../../../extension/workspace/transfers';
import { WorkspaceClient, WorkspaceError } from '../../../extension/workspace/workspace-client';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

const transport = createNodeWsTransport(WebSocket);

async function connect(relay: TestRelay, user: string, role: Role): Promise<RelayClient> {
  const client = new RelayClient({ url: relay.url, token: relay.token({ user, role }), transport, reconnect: false });
  client.connect();
  await waitUntil(() => client.state === 'open', `${user} to connect`, 5000);
  return client;
}

/** An in-memory host: files by path, answering every request; `silent` stops it answering. */
function memoryHost(client: RelayClient, files: Map<string, Uint8Array>) {
  const transfers = new Transfers();
  const seen: string[] = [];
  const host = { silent: false, seen, dispose: () => (subscription.dispose(), transfers.dispose()) };
  const maxFrame = () => client.connection!.limits.max_frame_bytes;
  const subscription = client.on('workspace.request', (request) => {
    seen.push(`${request.op}:${request.path}${'chunk' in request && request.chunk ? `#${request.chunk}` : ''}`);
    if (host.silent) return;
    const key = Transfers.key(request.requester, request.request_id);
    const head = {
      request_id: request.request_id,
      requester: request.requester,
      ...('chunk' in request && request.chunk !== undefined && { chunk: request.chunk }),
    };
    const ok = (result: WorkspaceResult) => client.send('workspace.response', { ...head, ok: true, result });
    const fail = (code: 'FileNotFound' | 'NoPermissions') =>
      client.send('workspace.response', { ...head, ok: false, error: { code, message: `${request.path}: ${code}` } });
    if (request.op === 'readFile' || request.op === 'readDirectory') {
      if (request.chunk) {
        const piece = transfers.piece(key, request.chunk);
        return void (piece ? ok(piece) : fail('FileNotFound'));
      }
      let pieces: WorkspaceResult[];
      if (request.op === 'readFile') {
        const bytes = files.get(request.path);
        if (!bytes) return void fail('FileNotFound');
        const contents = toBase64Pieces(bytes, pieceBytes(maxFrame()));
        pieces = contents.map((content) => ({ kind: 'content', content, size: bytes.length, chunks: contents.length }));
      } else {
        const names = [...files.keys()].filter((path) => path.startsWith(request.path ? `${request.path}/` : ''));
        const runs = splitByJsonSize(
          names.map((name) => ({ name: name.split('/').pop()!, type: 'file' as const })),
          maxFrame() - 2048,
        );
        pieces = runs.map((entries) => ({ kind: 'directory', entries, chunks: runs.length }));
      }
      if (pieces.length > 1) transfers.keepSnapshot(key, pieces, 0);
      return void ok(pieces[0]!);
    }
    if (request.op === 'writeFile') {
      if (request.path.endsWith('.env')) return void fail('NoPermissions');
      const done = transfers.addPiece(key, request.chunk, request.content, request.done);
      if (done) files.set(request.path, fromBase64Pieces(done));
      return void ok({ kind: 'done' });
    }
    if (request.op === 'stat') {
      const bytes = files.get(request.path);
      return void (bytes ? ok({ kind: 'stat', type: 'file', size: bytes.length, ctime: 0, mtime: 1 }) : fail('FileNotFound'));
    }
    ok({ kind: 'done' });
  });
  return host;
}

describe('WorkspaceClient (guest requests over the relay)', () => {
  let relay: TestRelay;
  const clients: RelayClient[] = [];
  const track = (client: RelayClient) => (clients.push(client), client);
  beforeEach(async () => {
    relay = await startTestRelay({ WS_MAX_FRAME_BYTES: String(8 * 1024), WS_MAX_MESSAGES_PER_SECOND: '100' });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose();
    await relay.stop();
  });

  it('reads and writes files many frames long, both ways, byte for byte, within the rate limit', async () => {
    const files = new Map<string, Uint8Array>([
      ['big.bin', new Uint8Array(randomBytes(150_000))],
      ['empty', new Uint8Array()],
    ]);
    const host = memoryHost(track(await connect(relay, 'hana', 'host')), files);
    const guest = track(await connect(relay, 'bob', 'editor'));
    const errors: string[] = [];
    guest.on('error', (error) => errors.push(error.code));
    const requests = new WorkspaceClient(guest, { timeoutMs: 10_000 });
    try {
      assert.deepEqual(await requests.readFile('big.bin'), files.get('big.bin'));
      assert.ok(host.seen.filter((s) => s.startsWith('readFile:big.bin')).length > 20, 'the 8 KiB frame limit made it many pieces');
      assert.deepEqual(await requests.readFile('empty'), new Uint8Array());

      const upload = new Uint8Array(randomBytes(100_000));
      await requests.writeFile('dir/up.bin', upload, { create: true, overwrite: false });
      assert.deepEqual(files.get('dir/up.bin'), upload);
      assert.deepEqual(errors, [], 'no frame was too large or over the rate');
    } finally {
      requests.dispose();
      host.dispose();
    }
  });

  it('reads a listing longer than a frame in pieces', async () => {
    const files = new Map<string, Uint8Array>();
    for (let i = 0; i < 600; i++) files.set(`src/file-with-a-longish-name-${i}.ts`, new Uint8Array());
    const host = memoryHost(track(await connect(relay, 'hana', 'host')), files);
    const requests = new WorkspaceClient(track(await connect(relay, 'bob', 'editor')));
    try {
      const entries = await requests.readDirectory('src');
      assert.equal(entries.length, 600);
      assert.equal(new Set(entries.map((e) => e.name)).size, 600);
    } finally {
      requests.dispose();
      host.dispose();
    }
  });

  it('turns the host’s and the relay’s refusals into file errors', async () => {
    const viewer = new WorkspaceClient(track(await connect(relay, 'vera', 'viewer')), { timeoutMs: 10_000 });
    const editor = new WorkspaceClient(track(await connect(relay, 'eve', 'editor')), { timeoutMs: 10_000 });
    try {
      const noHost = await editor.stat('a.txt').catch((error: unknown) => error);
      assert.ok(noHost instanceof WorkspaceError);
      assert.equal(noHost.code, 'Unavailable');
      assert.match(noHost.message, /host is not connected/);

      const host = memoryHost(track(await connect(relay, 'hana', 'host')), new Map([['a.txt', new Uint8Array([104, 105])]]));
      try {
        assert.equal((await editor.stat('a.txt')).size, 2);
        await assert.rejects(editor.readFile('missing.txt'), (error: WorkspaceError) => error.code === 'FileNotFound');
        await assert.rejects(
          editor.writeFile('.env', new Uint8Array([1]), { create: true, overwrite: true }),
          (error: WorkspaceError) => error.code === 'NoPermissions',
        );
        await assert.rejects(
          viewer.delete('a.txt', false),
          (error: WorkspaceError) => error.code === 'NoPermissions' && /FORBIDDEN_ROLE/.test(error.message),
        );
        assert.ok(!host.seen.includes('delete:a.txt'), 'the relay stopped the viewer’s delete');
        assert.equal((await viewer.stat('a.txt')).size, 2, 'a viewer still reads');
      } finally {
        host.dispose();
      }
    } finally {
      viewer.dispose();
      editor.dispose();
    }
  });

  it('gives up after its timeout when the host does not answer, and at once when the connection drops', async () => {
    const host = memoryHost(track(await connect(relay, 'hana', 'host')), new Map());
    host.silent = true;
    const guest = track(await connect(relay, 'bob', 'editor'));
    const requests = new WorkspaceClient(guest, { timeoutMs: 500 });
    try {
      await assert.rejects(
        requests.stat('a'),
        (error: WorkspaceError) => error.code === 'Unavailable' && /did not answer/.test(error.message),
      );
      const pending = requests.readFile('b');
      await waitUntil(() => host.seen.includes('readFile:b'), 'the request to reach the host');
      guest.close();
      await assert.rejects(pending, (error: WorkspaceError) => error.code === 'Unavailable' && /connection/.test(error.message));
      await assert.rejects(requests.stat('c'), (error: WorkspaceError) => error.code === 'Unavailable');
    } finally {
      requests.dispose();
      host.dispose();
    }
  });
});

describe('chunk helpers', () => {
  it('sizes pieces so that a frame stays under the limit, paths included', () => {
    const limit = 64 * 1024;
    const path = 'a/'.repeat(500) + 'file.txt';
    const bytes = pieceBytes(limit, path);
    const frame = JSON.stringify({
      event_type: 'workspace.request',
      payload: {
        request_id: 'x'.repeat(128),
        op: 'writeFile',
        path,
        content: Buffer.alloc(bytes).toString('base64'),
        chunk: 999_999,
        done: false,
        create: true,
        overwrite: true,
      },
      timestamp: new Date().toISOString(),
    });
    assert.ok(Buffer.byteLength(frame) <= limit, `${Buffer.byteLength(frame)} bytes`);
    assert.equal(bytes % 3, 0, 'whole base64 groups: pieces concatenate');
    assert.deepEqual(fromBase64Pieces(toBase64Pieces(new Uint8Array([1, 2, 3, 4, 5, 6, 7]), 3)), new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
    assert.deepEqual(toBase64Pieces(new Uint8Array(), 3), ['']);
  });

  it('splits lists by JSON size, never leaving an item out', () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ name: `n${i}`.padEnd(50, 'x') }));
    const runs = splitByJsonSize(items, 1000);
    assert.ok(runs.length > 5);
    for (const run of runs) assert.ok(Buffer.byteLength(JSON.stringify(run)) <= 1000);
    assert.deepEqual(runs.flat(), items);
    assert.deepEqual(splitByJsonSize([], 1000), [[]]);
  });

  it('paces takes to the rate, in order', async () => {
    const pacer = new Pacer(() => 50);
    const order: number[] = [];
    const started = Date.now();
    await Promise.all(Array.from({ length: 75 }, (_, i) => pacer.take().then(() => order.push(i))));
    assert.deepEqual(
      order,
      Array.from({ length: 75 }, (_, i) => i),
    );
    // A full bucket of 50, then 25 more at 50/s: at least ~half a second (no upper bound asserted).
    assert.ok(Date.now() - started >= 400);
  });

  it('keeps upload pieces in any order and snapshots until every piece was served', () => {
    const transfers = new Transfers(60_000, 1000);
    try {
      assert.equal(transfers.addPiece('k', 2, 'CC', true), undefined);
      assert.equal(transfers.addPiece('k', 0, 'AA', false), undefined);
      assert.deepEqual(transfers.addPiece('k', 1, 'BB', false), ['AA', 'BB', 'CC']);
      assert.equal(transfers.size, 0);
      transfers.keepSnapshot('s', [{ kind: 'done' }, { kind: 'done' }, { kind: 'done' }], 10);
      assert.ok(transfers.piece('s', 2));
      assert.ok(transfers.piece('s', 1));
      assert.equal(transfers.size, 0, 'gone once every piece was served');
      assert.throws(() => transfers.keepSnapshot('big', [{ kind: 'done' }], 2000), /busy/);
      assert.throws(() => transfers.addPiece('huge', 0, 'x'.repeat(2000), false), /busy/);
    } finally {
      transfers.dispose();
    }
  });
});
