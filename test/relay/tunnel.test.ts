import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { startRedisServer } from '../support/redis-server';
import { clientFrame, samplePayloads, startTestRelay, type TestClient, type TestRelay } from '../support/relay-fixture';

/**
 * Shared servers through the relay (tunnel.*): each frame reaches the one party it is for, a
 * guest cannot speak for the host nor reach another guest's stream, and the session's bytes per
 * minute are bounded.
 */

/** A chat marker's echo: whatever was going to reach `client` before it has arrived (frames are handled in order). */
async function settle(client: TestClient, marker = `marker-${Math.random()}`): Promise<void> {
  client.send(clientFrame('chat.message', samplePayloads.chat(marker)));
  await client.next('chat.message', (f) => f.payload.content === marker);
}

function connectionId(client: TestClient): string {
  const connect = client.frames[0]!;
  assert.ok(connect.event_type === 'connect');
  return connect.payload.connection_id;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const tunnelFrames = (client: TestClient) =>
  client.frames.filter((f) => f.event_type.startsWith('tunnel.')).map((f) => [f.event_type, f.payload] as const);

describe('shared servers routing (tunnel.*)', () => {
  let relay: TestRelay;
  afterEach(() => relay.stop());

  it('routes a stream between one guest and the host, and nobody else sees it', async () => {
    relay = await startTestRelay();
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    const bobId = connectionId(bob);

    host.send(clientFrame('tunnel.shared', { servers: [{ share_id: 'web-1', name: 'web', port: 3000 }] }));
    assert.deepEqual((await bob.next('tunnel.shared')).payload.servers, [{ share_id: 'web-1', name: 'web', port: 3000 }]);
    await carol.next('tunnel.shared');

    bob.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
    assert.deepEqual((await host.next('tunnel.open')).payload, { stream_id: 's1', share_id: 'web-1', requester: bobId });
    host.send(clientFrame('tunnel.opened', { stream_id: 's1', requester: bobId }));
    await bob.next('tunnel.opened');

    bob.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('GET / HTTP/1.1\r\n\r\n') }));
    assert.deepEqual((await host.next('tunnel.data')).payload, { stream_id: 's1', data: b64('GET / HTTP/1.1\r\n\r\n'), requester: bobId });
    host.send(clientFrame('tunnel.ack', { stream_id: 's1', bytes: 18, requester: bobId }));
    host.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('HTTP/1.1 200 OK\r\n\r\n'), requester: bobId }));
    assert.deepEqual((await bob.next('tunnel.ack')).payload, { stream_id: 's1', bytes: 18, requester: bobId });
    assert.equal((await bob.next('tunnel.data')).payload.data, b64('HTTP/1.1 200 OK\r\n\r\n'));
    bob.send(clientFrame('tunnel.ack', { stream_id: 's1', bytes: 19 }));
    bob.send(clientFrame('tunnel.close', { stream_id: 's1', reason: 'closed' }));
    assert.deepEqual((await host.next('tunnel.close')).payload, { stream_id: 's1', reason: 'closed', requester: bobId });
    assert.equal(host.of('tunnel.ack')[0]?.payload.bytes, 19);

    // A viewer may use a shared server too: reading a page is a read.
    carol.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
    assert.equal((await host.next('tunnel.open', (f) => f.payload.requester === connectionId(carol))).payload.stream_id, 's1');

    for (const client of [host, bob, carol]) await settle(client);
    assert.deepEqual(
      tunnelFrames(carol).map(([type]) => type),
      ['tunnel.shared'],
      'the viewer sees the list, not bob’s stream',
    );
    assert.deepEqual(
      tunnelFrames(host).filter(([type]) => type === 'tunnel.shared' || type === 'tunnel.opened'),
      [],
      'no echo to the host',
    );
  });

  it('refuses a guest’s host-side frames, and frames of streams it did not open', async () => {
    relay = await startTestRelay();
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const eve = await relay.connect('eve');
    const bobId = connectionId(bob);
    bob.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
    await host.next('tunnel.open');

    eve.send(clientFrame('tunnel.shared', { servers: [{ share_id: 'evil', name: 'evil', port: 22 }] }));
    assert.equal((await eve.next('error', (f) => f.payload.event_type === 'tunnel.shared')).payload.code, 'FORBIDDEN_ROLE');
    eve.send(clientFrame('tunnel.opened', { stream_id: 's1', requester: bobId }));
    assert.equal((await eve.next('error', (f) => f.payload.event_type === 'tunnel.opened')).payload.code, 'FORBIDDEN_ROLE');
    // Data to bob's stream, by naming bob's connection: refused.
    eve.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('HTTP/1.1 200 OK'), requester: bobId }));
    const forged = await eve.next('error', (f) => f.payload.event_type === 'tunnel.data');
    assert.equal(forged.payload.code, 'FORBIDDEN_ROLE');
    assert.equal(forged.payload.path, 'payload.requester');
    // Data on a stream eve never opened (bob's id): refused, the host never sees it.
    eve.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('x') }));
    const unknown = await eve.next('error', (f) => f.payload.event_type === 'tunnel.data' && f.payload.code !== 'FORBIDDEN_ROLE');
    assert.equal(unknown.payload.code, 'TUNNEL_STREAM_UNKNOWN');
    assert.equal(unknown.payload.request_id, 's1');
    // The same stream id twice on one connection.
    bob.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
    assert.equal((await bob.next('error')).payload.code, 'TUNNEL_STREAM_UNKNOWN');
    // The host cannot open streams, and names the guest in its own frames.
    host.send(clientFrame('tunnel.open', { stream_id: 'h1', share_id: 'web-1' }));
    assert.equal((await host.next('error', (f) => f.payload.event_type === 'tunnel.open')).payload.code, 'FORBIDDEN_ROLE');
    host.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('x') }));
    const unnamed = await host.next('error', (f) => f.payload.event_type === 'tunnel.data');
    assert.equal(unnamed.payload.path, 'payload.requester');

    for (const client of [host, bob, eve]) await settle(client);
    assert.deepEqual(
      tunnelFrames(host).map(([type]) => type),
      ['tunnel.open'],
      'only bob’s first open reached the host',
    );
    assert.deepEqual(tunnelFrames(bob), [], 'nothing forged reached bob');
  });

  it('refuses malformed frames: a port or host instead of a share, oversized chunks, bad base64, a huge credit', async () => {
    relay = await startTestRelay();
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bad: Array<[event: string, payload: Record<string, unknown>, path: string]> = [
      ['tunnel.open', { stream_id: 's1', share_id: 'web-1', port: 22 }, 'payload'],
      ['tunnel.open', { stream_id: 's1', share_id: '127.0.0.1:22' }, 'payload.share_id'],
      ['tunnel.open', { stream_id: '../s', share_id: 'web-1' }, 'payload.stream_id'],
      ['tunnel.data', { stream_id: 's1', data: 'A'.repeat(43_696) }, 'payload.data'],
      ['tunnel.data', { stream_id: 's1', data: 'no base64!' }, 'payload.data'],
      ['tunnel.ack', { stream_id: 's1', bytes: 1e9 }, 'payload.bytes'],
      ['tunnel.close', { stream_id: 's1', reason: 'whatever' }, 'payload.reason'],
    ];
    for (const [event_type, payload] of bad) bob.send({ event_type, payload });
    for (const [event_type, payload, path] of bad) {
      const error = await bob.next('error', (f) => f.payload.event_type === event_type && (f.payload.path ?? '').startsWith(path));
      assert.equal(error.payload.code, 'VALIDATION_FAILED', JSON.stringify(payload));
      bob.frames.splice(bob.frames.indexOf(error), 1);
    }
    await settle(host);
    assert.deepEqual(tunnelFrames(host), []);
  });

  it('bounds the streams of one guest connection (TUNNEL_MAX_STREAMS_PER_CONNECTION); a close frees a place', async () => {
    relay = await startTestRelay({ TUNNEL_MAX_STREAMS_PER_CONNECTION: '2' });
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    for (const id of ['a', 'b', 'c']) bob.send(clientFrame('tunnel.open', { stream_id: id, share_id: 'web-1' }));
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'TUNNEL_TOO_MANY_STREAMS');
    assert.equal(error.payload.request_id, 'c');
    bob.send(clientFrame('tunnel.close', { stream_id: 'a', reason: 'closed' }));
    bob.send(clientFrame('tunnel.open', { stream_id: 'c', share_id: 'web-1' }));
    await host.until(() => host.of('tunnel.open').length === 3, 'a, b, then c after a closed');
    assert.deepEqual(
      host.of('tunnel.open').map((f) => f.payload.stream_id),
      ['a', 'b', 'c'],
    );
  });

  it('enforces the session’s bytes per minute in both directions: past it an error, and nothing forwarded', async () => {
    relay = await startTestRelay({ TUNNEL_SESSION_BYTES_PER_MINUTE: String(64 * 1024) });
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bobId = connectionId(bob);
    bob.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
    await host.next('tunnel.open');
    const chunk = Buffer.alloc(30 * 1024, 7).toString('base64');
    bob.send(clientFrame('tunnel.data', { stream_id: 's1', data: chunk })); // 30 KiB
    host.send(clientFrame('tunnel.data', { stream_id: 's1', data: chunk, requester: bobId })); // 60 KiB
    host.send(clientFrame('tunnel.data', { stream_id: 's1', data: chunk, requester: bobId })); // 90 KiB: refused
    const refused = await host.next('error', (f) => f.payload.event_type === 'tunnel.data');
    assert.equal(refused.payload.code, 'TUNNEL_BYTES_EXCEEDED');
    assert.equal(refused.payload.request_id, 's1');
    bob.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64('more') }));
    // 60 KiB + 4 bytes still fits; a further 5 KiB does not.
    bob.send(clientFrame('tunnel.data', { stream_id: 's1', data: Buffer.alloc(5 * 1024).toString('base64') }));
    assert.equal((await bob.next('error', (f) => f.payload.event_type === 'tunnel.data')).payload.code, 'TUNNEL_BYTES_EXCEEDED');
    // Closes and acks are not data: they still go through.
    bob.send(clientFrame('tunnel.close', { stream_id: 's1', reason: 'limit' }));
    await host.next('tunnel.close');
    for (const client of [host, bob]) await settle(client);
    assert.equal(bob.of('tunnel.data').length, 1, 'the host’s second chunk was not forwarded');
    assert.deepEqual(
      host.of('tunnel.data').map((f) => Buffer.from(f.payload.data, 'base64').length),
      [30 * 1024, 4],
    );
  });
});

describe('shared servers across two relays on one Redis', () => {
  it('forwards a guest’s stream frames to the host on another relay with no presence read each (Redis, two relays)', async () => {
    const redis = await startRedisServer();
    const settings = (id: string) => ({ RELAY_ID: id, REDIS_URL: redis.url, WS_MAX_MESSAGES_PER_SECOND: '100000' });
    const other = await startTestRelay(settings('relay-b'));
    const relay = await startTestRelay(settings('relay-a'));
    const stats = new Redis(redis.url);
    try {
      const host = await other.connect('hana', { role: 'host' });
      const bob = await relay.connect('bob');
      bob.send(clientFrame('tunnel.open', { stream_id: 's1', share_id: 'web-1' }));
      await host.next('tunnel.open');
      const presenceReads = async () => Number(/cmdstat_hgetall:calls=(\d+)/.exec(await stats.info('commandstats'))?.[1] ?? 0);
      const before = await presenceReads();
      const FRAMES = 300;
      for (let i = 0; i < FRAMES; i++) {
        bob.send(clientFrame('tunnel.data', { stream_id: 's1', data: b64(`chunk ${i};`) }));
        if (i % 10 === 9) bob.send(clientFrame('tunnel.ack', { stream_id: 's1', bytes: 100 }));
      }
      bob.send(clientFrame('tunnel.close', { stream_id: 's1', reason: 'closed' }));
      await host.next('tunnel.close', undefined, 10_000);
      const received = host.of('tunnel.data').map((f) => Buffer.from(f.payload.data, 'base64').toString());
      assert.deepEqual(
        received,
        Array.from({ length: FRAMES }, (_, i) => `chunk ${i};`),
        'every chunk once, in order',
      );
      assert.equal(host.of('tunnel.ack').length, FRAMES / 10);
      // Before, each of these 331 frames read the session's presence (an HGETALL, then an EXISTS per relay).
      const reads = (await presenceReads()) - before;
      assert.ok(reads < 20, `${reads} HGETALLs for ${FRAMES + FRAMES / 10 + 1} stream frames`);
    } finally {
      stats.disconnect();
      await other.stop();
      await relay.stop();
      await redis.dispose();
    }
  });
});
