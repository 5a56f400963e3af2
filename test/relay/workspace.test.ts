import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { ClientPayload } from '../../protocol';
import { type RedisServer, startRedisServer } from '../support/redis-server';
import { clientFrame, samplePayloads, startTestRelay, type TestClient, type TestRelay } from '../support/relay-fixture';
import { waitUntil } from '../support/wait';

/**
 * Sends a chat marker and waits for its echo: the relay handles a connection's frames in order
 * and the embedded broker delivers synchronously, so whatever was going to reach `client` before
 * the marker has arrived by then.
 */
async function settle(client: TestClient, marker: string): Promise<void> {
  client.send(clientFrame('chat.message', samplePayloads.chat(marker)));
  await client.next('chat.message', (f) => f.payload.content === marker);
}

function request(client: TestClient, payload: ClientPayload<'workspace.request'>): void {
  client.send(clientFrame('workspace.request', payload));
}

/** A host that answers from an in-memory file table, the way the extension's host service does: pulled reads, pushed writes. */
function serveFiles(host: TestClient, files: Map<string, Buffer>, pieceBytes: number): () => void {
  const writes = new Map<string, string[]>();
  let seen = 0;
  const answer = (payload: ClientPayload<'workspace.response'>) => host.send(clientFrame('workspace.response', payload));
  const onFrame = () => {
    const requests = host.of('workspace.request');
    for (; seen < requests.length; seen++) {
      const { payload: r, user_id } = requests[seen]!;
      const head = { request_id: r.request_id, requester: r.requester };
      assert.ok(user_id.length > 0);
      if (r.op === 'readFile') {
        const content = files.get(r.path);
        if (!content) {
          answer({ ...head, ok: false, error: { code: 'FileNotFound', message: r.path } });
          continue;
        }
        const chunks = Math.max(1, Math.ceil(content.length / pieceBytes));
        const chunk = r.chunk ?? 0;
        const piece = content.subarray(chunk * pieceBytes, (chunk + 1) * pieceBytes).toString('base64');
        answer({ ...head, chunk, ok: true, result: { kind: 'content', content: piece, size: content.length, chunks } });
      } else if (r.op === 'writeFile') {
        const key = `${r.requester}/${r.request_id}`;
        const pieces = writes.get(key) ?? [];
        pieces[r.chunk] = r.content;
        writes.set(key, pieces);
        if (r.done) {
          files.set(r.path, Buffer.concat(pieces.map((p) => Buffer.from(p, 'base64'))));
          writes.delete(key);
        }
        answer({ ...head, chunk: r.chunk, ok: true, result: { kind: 'done' } });
      } else {
        answer({ ...head, ok: true, result: { kind: 'done' } });
      }
    }
  };
  const timer = setInterval(onFrame, 2);
  return () => clearInterval(timer);
}

describe('shared folder routing (workspace.*)', () => {
  let relay: TestRelay;
  beforeEach(async () => {
    relay = await startTestRelay();
  });
  afterEach(() => relay.stop());

  it('delivers a guest’s request to the host only, with the requester’s connection; the answer to that connection only', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bobAgain = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    const bobId = bob.frames[0]!.event_type === 'connect' ? bob.frames[0]!.payload.connection_id : '';

    request(bob, { request_id: 'r-1', op: 'stat', path: 'src/app.ts' });
    const delivered = await host.next('workspace.request');
    assert.deepEqual(delivered.payload, { request_id: 'r-1', op: 'stat', path: 'src/app.ts', requester: bobId });
    assert.equal(delivered.user_id, 'bob', 'the host sees who asks');

    const stat: ClientPayload<'workspace.response'> = {
      request_id: 'r-1',
      requester: bobId,
      ok: true,
      result: { kind: 'stat', type: 'file', size: 5, ctime: 1, mtime: 2 },
    };
    host.send(clientFrame('workspace.response', stat));
    const answer = await bob.next('workspace.response');
    assert.deepEqual(answer.payload, stat);
    assert.equal(answer.user_id, 'hana');

    for (const client of [bobAgain, carol, host]) await settle(client, `marker-${Math.random()}`);
    for (const client of [bobAgain, carol])
      assert.deepEqual([...client.of('workspace.request'), ...client.of('workspace.response')], [], 'nobody else sees it');
    assert.deepEqual(host.of('workspace.response'), [], 'not even the host’s own answer comes back');
  });

  it('answers HOST_NOT_CONNECTED, naming the request, when the session has no host connected', async () => {
    const bob = await relay.connect('bob');
    request(bob, { request_id: 'r-lonely', op: 'readDirectory', path: '' });
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'HOST_NOT_CONNECTED');
    assert.equal(error.payload.request_id, 'r-lonely');
    assert.equal(error.payload.event_type, 'workspace.request');

    // Once the host is there, the same request goes through.
    const host = await relay.connect('hana', { role: 'host' });
    request(bob, { request_id: 'r-2', op: 'readDirectory', path: '' });
    assert.equal((await host.next('workspace.request')).payload.request_id, 'r-2');
  });

  it('lets a viewer read but refuses its writes with FORBIDDEN_ROLE: they never reach the host', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const viewer = await relay.connect('vera', { role: 'viewer' });
    const writes: Array<ClientPayload<'workspace.request'>> = [
      { request_id: 'w-1', op: 'writeFile', path: 'a.txt', content: 'aGk=', chunk: 0, done: true, create: true, overwrite: true },
      { request_id: 'w-2', op: 'createDirectory', path: 'dir' },
      { request_id: 'w-3', op: 'delete', path: 'a.txt', recursive: false },
      { request_id: 'w-4', op: 'rename', path: 'a.txt', to: 'b.txt', overwrite: false },
    ];
    for (const write of writes) request(viewer, write);
    for (const write of writes) {
      const error = await viewer.next('error', (f) => f.payload.request_id === write.request_id);
      assert.equal(error.payload.code, 'FORBIDDEN_ROLE');
      assert.equal(error.payload.path, 'payload.op');
    }
    for (const op of ['stat', 'readDirectory', 'readFile'] as const) request(viewer, { request_id: `r-${op}`, op, path: '' });
    await host.until(() => host.of('workspace.request').length === 3, 'the three reads');
    await settle(host, 'marker');
    assert.deepEqual(
      host.of('workspace.request').map((f) => f.payload.op),
      ['stat', 'readDirectory', 'readFile'],
    );
  });

  it('takes answers and change events from the host only', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const editor = await relay.connect('eve');
    const viewer = await relay.connect('vera', { role: 'viewer' });
    editor.send(clientFrame('workspace.response', { request_id: 'r-1', requester: 'relay-x.1', ok: true, result: { kind: 'done' } }));
    assert.equal((await editor.next('error', (f) => f.payload.event_type === 'workspace.response')).payload.code, 'FORBIDDEN_ROLE');
    editor.send(clientFrame('workspace.changed', { changes: [{ type: 'deleted', path: 'src' }] }));
    assert.equal((await editor.next('error', (f) => f.payload.event_type === 'workspace.changed')).payload.code, 'FORBIDDEN_ROLE');

    const changes: ClientPayload<'workspace.changed'> = {
      changes: [
        { type: 'created', path: 'src/new.ts' },
        { type: 'changed', path: 'README.md' },
      ],
    };
    host.send(clientFrame('workspace.changed', changes));
    for (const guest of [editor, viewer]) assert.deepEqual((await guest.next('workspace.changed')).payload, changes);
    await settle(host, 'marker');
    assert.deepEqual(host.of('workspace.changed'), [], 'not back to the host');
  });

  it('lets a viewer list and search the shared folder (reads), and refuses a search outside it', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const carol = await relay.connect('carol', { role: 'viewer' });
    const query = { pattern: 'TODO', regex: false, case_sensitive: false, include: ['src/**'] };
    request(carol, { request_id: 'f-1', op: 'findFiles', path: '' });
    request(carol, { request_id: 's-1', op: 'search', path: 'src', query });
    await host.until(() => host.of('workspace.request').length === 2, 'both requests');
    assert.deepEqual(
      host.of('workspace.request').map((f) => f.payload.op),
      ['findFiles', 'search'],
    );
    carol.send({ event_type: 'workspace.request', payload: { request_id: 's-2', op: 'search', path: '../..', query } });
    const error = await carol.next('error', (f) => f.payload.request_id === 's-2');
    assert.equal(error.payload.code, 'VALIDATION_FAILED');
    assert.equal(error.payload.path, 'payload.path');
    await settle(carol, 'marker');
    assert.equal(host.of('workspace.request').length, 2, 'the bad one never reached the host');
  });

  it('refuses malformed requests and answers with VALIDATION_FAILED, naming the field and the request', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bad: Array<[payload: Record<string, unknown>, path: string]> = [
      [{ request_id: 'b-1', op: 'readFile', path: '../../etc/passwd' }, 'payload.path'],
      [{ request_id: 'b-2', op: 'readFile', path: '/etc/passwd' }, 'payload.path'],
      [{ request_id: 'b-3', op: 'rename', path: 'a', to: 'a/../../b', overwrite: true }, 'payload.to'],
      [
        { request_id: 'b-4', op: 'writeFile', path: 'a', content: 'not base64', chunk: 0, done: true, create: true, overwrite: true },
        'payload.content',
      ],
      [{ request_id: 'b-5', op: 'stat', path: 'a', requester: 'relay-1.1' }, 'payload.requester'],
      [{ request_id: 'b-6', op: 'format', path: '' }, 'payload.op'],
    ];
    for (const [payload] of bad) bob.send({ event_type: 'workspace.request', payload });
    for (const [payload, path] of bad) {
      const error = await bob.next('error', (f) => f.payload.request_id === payload.request_id);
      assert.equal(error.payload.code, 'VALIDATION_FAILED', JSON.stringify(payload));
      assert.equal(error.payload.path, path, JSON.stringify(payload));
    }
    host.send({ event_type: 'workspace.response', payload: { request_id: 'r-1', ok: true, result: { kind: 'done' } } });
    const error = await host.next('error', (f) => f.payload.event_type === 'workspace.response');
    assert.equal(error.payload.code, 'VALIDATION_FAILED');
    assert.equal(error.payload.path, 'payload.requester');
    await settle(host, 'marker');
    assert.deepEqual(host.of('workspace.request'), [], 'nothing reached the host');
  });

  it('carries a file larger than a frame both ways in pieces that each fit the frame limit', async () => {
    const limit = relay.config.limits.maxFrameBytes;
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const pieceBytes = Math.floor((limit - 1024) / 4) * 3;
    const big = randomBytes(pieceBytes * 4 + 123);
    const files = new Map([['data/big.bin', big]]);
    const stop = serveFiles(host, files, pieceBytes);
    try {
      // A whole file in one frame is refused: that is why it travels in pieces.
      bob.send(
        clientFrame('workspace.request', {
          request_id: 'too-big',
          op: 'writeFile',
          path: 'x',
          content: big.toString('base64'),
          chunk: 0,
          done: true,
          create: true,
          overwrite: true,
        }),
      );
      assert.equal((await bob.next('error', (f) => f.payload.code === 'FRAME_TOO_LARGE')).payload.code, 'FRAME_TOO_LARGE');

      // Read: pull piece 0, learn the count, pull the rest.
      request(bob, { request_id: 'read-1', op: 'readFile', path: 'data/big.bin' });
      const first = await bob.next('workspace.response', (f) => f.payload.request_id === 'read-1');
      assert.ok(first.payload.ok && first.payload.result.kind === 'content');
      const { chunks, size } = first.payload.result;
      assert.equal(size, big.length);
      assert.equal(chunks, 5);
      for (let chunk = 1; chunk < chunks; chunk++) request(bob, { request_id: 'read-1', op: 'readFile', path: 'data/big.bin', chunk });
      await bob.until(() => bob.of('workspace.response').filter((f) => f.payload.request_id === 'read-1').length === chunks, 'every piece');
      const pieces = bob
        .of('workspace.response')
        .filter((f) => f.payload.request_id === 'read-1')
        .sort((a, b) => (a.payload.chunk ?? 0) - (b.payload.chunk ?? 0))
        .map((f) =>
          f.payload.ok && f.payload.result.kind === 'content' ? Buffer.from(f.payload.result.content, 'base64') : Buffer.alloc(0),
        );
      assert.ok(Buffer.concat(pieces).equals(big), 'the pieces make the file');

      // Write: push every piece, each acknowledged; the host has the whole file after the last.
      const upload = randomBytes(pieceBytes * 3 + 7);
      const total = Math.ceil(upload.length / pieceBytes);
      for (let chunk = 0; chunk < total; chunk++) {
        const content = upload.subarray(chunk * pieceBytes, (chunk + 1) * pieceBytes).toString('base64');
        const frame = JSON.stringify(
          clientFrame('workspace.request', {
            request_id: 'write-1',
            op: 'writeFile',
            path: 'data/up.bin',
            content,
            chunk,
            done: chunk === total - 1,
            create: true,
            overwrite: true,
          }),
        );
        assert.ok(Buffer.byteLength(frame) <= limit, `piece ${chunk} fits a frame (${Buffer.byteLength(frame)} bytes)`);
        bob.socket.send(frame);
      }
      await bob.until(
        () => bob.of('workspace.response').filter((f) => f.payload.request_id === 'write-1').length === total,
        'an ack per piece',
      );
      assert.ok(files.get('data/up.bin')?.equals(upload), 'the host has the whole upload');
      assert.deepEqual(
        bob.of('error').map((f) => f.payload.code),
        ['FRAME_TOO_LARGE'],
      );
    } finally {
      stop();
    }
  });

  it('asks every host connection of the session (an old one may linger while the host reconnects)', async () => {
    const laptop = await relay.connect('hana', { role: 'host' });
    const desktop = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    request(bob, { request_id: 'r-both', op: 'stat', path: '' });
    const [a, b] = await Promise.all([laptop.next('workspace.request'), desktop.next('workspace.request')]);
    assert.deepEqual(a.payload, b.payload);
    // A host asking its own session's folder does not ask itself.
    request(laptop, { request_id: 'r-self', op: 'stat', path: '' });
    await desktop.next('workspace.request', (f) => f.payload.request_id === 'r-self');
    await settle(laptop, 'marker');
    assert.equal(laptop.of('workspace.request').filter((f) => f.payload.request_id === 'r-self').length, 0);
  });
});

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('shared folder routing across two relays on one Redis', () => {
  let redis: RedisServer;
  let a: TestRelay;
  let b: TestRelay;
  before(async () => {
    redis = await startRedisServer();
    a = await startTestRelay({ RELAY_ID: 'relay-a', REDIS_URL: redis.url });
    b = await startTestRelay({ RELAY_ID: 'relay-b', REDIS_URL: redis.url });
  });
  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it('finds the host on the other relay, and answers the one requesting connection only, wherever it is', async () => {
    const sessions = [`ws-${process.pid}`];
    const host = await b.connect('hana', { role: 'host', sessions });
    const bob = await a.connect('bob', { sessions });
    const bobElsewhere = await b.connect('bob', { sessions });
    const carol = await a.connect('carol', { sessions });
    const bobId = bob.frames[0]!.event_type === 'connect' ? bob.frames[0]!.payload.connection_id : '';
    assert.match(bobId, /^relay-a\./);

    request(bob, { request_id: 'x-1', op: 'readFile', path: 'README.md' });
    const delivered = await host.next('workspace.request', () => true, 5000);
    assert.equal(delivered.payload.requester, bobId);
    host.send(
      clientFrame('workspace.response', {
        request_id: 'x-1',
        requester: bobId,
        ok: true,
        result: { kind: 'content', content: 'aGk=', size: 2, chunks: 1 },
      }),
    );
    assert.equal((await bob.next('workspace.response', () => true, 5000)).payload.request_id, 'x-1');

    // The session channel is ordered: once the host's chat after its answer reached the others, an answer to them would have too.
    host.send(clientFrame('chat.message', samplePayloads.chat('after the answer')));
    for (const other of [bobElsewhere, carol]) {
      await other.next('chat.message', (f) => f.payload.content === 'after the answer', 5000);
      assert.deepEqual(other.of('workspace.response'), [], 'only the requesting connection gets the answer');
    }

    host.close();
    await host.closed;
    await waitUntil(
      async () => {
        request(carol, { request_id: `gone-${Date.now()}`, op: 'stat', path: '' });
        return await carol
          .next('error', (f) => f.payload.code === 'HOST_NOT_CONNECTED', 1000)
          .then(
            () => true,
            () => false,
          );
      },
      'HOST_NOT_CONNECTED once the host left the other relay',
      10_000,
      100,
    );
  });
});
