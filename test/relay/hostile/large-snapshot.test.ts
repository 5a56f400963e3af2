import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createNodeWsTransport, openFrames, PieceAssembler, RelayClient, type SnapshotPayload } from '../../../protocol';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';
import { within } from '../../support/wait';

/**
 * Issue 11, item 4: a document over 1 MiB could never be opened. Its snapshot was one frame
 * larger than WS_MAX_BUFFERED_BYTES, so the opener was closed as a slow consumer, and the
 * extension reconnected and rejoined in a loop. Now a large snapshot (and a large catch-up) goes
 * in pieces within the frame limit, paced to the opener's reading.
 */
const MAX_LENGTH = 1_500_000;
/** ASCII, a 3-byte character, a control character (6 bytes as JSON) and a surrogate pair, so that piece boundaries fall anywhere. */
const PATTERN = 'function f(x) { return x + 1; } // ok €\u0001 😀\n';
const textOf = (length: number) => PATTERN.repeat(Math.ceil(length / PATTERN.length)).slice(0, length - 1) + '.';

const transport = createNodeWsTransport(WebSocket);

describe('hostile: documents larger than the outbound buffer (WS_MAX_BUFFERED_BYTES)', () => {
  let relay: TestRelay | undefined;
  const clients: RelayClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await relay?.stop();
    relay = undefined;
  });

  /** A typed client of `user` (what the extension uses), connected. */
  async function typedClient(user: string): Promise<{ client: RelayClient; frames: string[]; disconnects: string[] }> {
    const client = new RelayClient({
      url: relay!.url,
      token: relay!.token({ user }),
      transport,
      backoff: { baseDelayMs: 50, maxDelayMs: 100 },
    });
    clients.push(client);
    const frames: string[] = [];
    const disconnects: string[] = [];
    client.onRawFrame((text) => frames.push(text));
    client.on('disconnect', (payload) => disconnects.push(payload.reason));
    const connected = new Promise<void>((resolve) => client.onConnected(() => resolve()));
    client.connect();
    await within(connected, 3000, `${user} to connect`);
    return { client, frames, disconnects };
  }

  /** The host creates `text` in pieces (as the extension does) and waits for the snapshot. */
  async function create(host: TestClient, document: string, text: string): Promise<void> {
    const before = host.of('collaboration.snapshot').length;
    for (const frame of openFrames({ document, text })) host.send(clientFrame('collaboration.open', frame));
    await host.until(
      () => host.of('collaboration.snapshot').some((f, i) => i >= before && f.payload.more !== true),
      `the snapshot of ${document}`,
      10_000,
    );
  }

  it('opens a document of DOCUMENT_MAX_LENGTH (about 3 MB as UTF-8) in pieces within the frame limit', async () => {
    relay = await startTestRelay({ DOCUMENT_MAX_LENGTH: String(MAX_LENGTH) });
    const host = await relay.connect('host', { role: 'host' });
    const text = textOf(MAX_LENGTH);
    await create(host, 'big.ts', text);

    const guest = await typedClient('guest');
    const snapshots: SnapshotPayload[] = [];
    guest.client.on('collaboration.snapshot', (payload) => snapshots.push(payload));
    guest.client.send('collaboration.open', { document: 'big.ts' });
    await within(
      new Promise<void>((resolve) => guest.client.on('collaboration.snapshot', () => resolve())),
      10_000,
      'the guest to get the whole snapshot',
    );
    assert.equal(snapshots.length, 1, 'listeners see one whole snapshot');
    assert.equal(snapshots[0]!.rev, 0);
    assert.ok(snapshots[0]!.text === text, `the text arrives whole (${snapshots[0]!.text.length} of ${text.length} code units)`);
    assert.deepEqual(guest.disconnects, [], 'not closed as a slow consumer');
    assert.equal(guest.client.state, 'open');
    const limit = relay.config.limits.maxFrameBytes;
    const pieces = guest.frames.filter((f) => f.includes('"collaboration.snapshot"'));
    assert.ok(pieces.length > 1, 'it came in pieces');
    for (const frame of pieces)
      assert.ok(Buffer.byteLength(frame) <= limit, `a piece of ${Buffer.byteLength(frame)} bytes is over the ${limit}-byte frame limit`);

    // The host's edit after the open reaches the guest after the snapshot, at the next revision.
    const edits = new Promise<number>((resolve) => guest.client.on('collaboration.edit', (payload) => resolve(payload.rev)));
    host.send(clientFrame('collaboration.edit', { document: 'big.ts', rev: 0, client_id: 'h', seq: 0, op: [{ d: 'f' }] }));
    assert.equal(await within(edits, 5000, 'the host’s edit'), 1);
  });

  it('sends a catch-up larger than the outbound buffer paced to the reader, then the snapshot', async () => {
    relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '1000' });
    const host = await relay.connect('host', { role: 'host' });
    await openDocument(host, 'log.txt', '');
    // 40 edits of 30,000 characters: a catch-up of 1.2 MB of edits, over the 1 MiB buffer.
    const chunk = 'x'.repeat(29_999) + '\n';
    for (let seq = 0; seq < 40; seq++)
      host.send(
        clientFrame('collaboration.edit', {
          document: 'log.txt',
          rev: seq,
          client_id: 'h',
          seq,
          op: seq === 0 ? [chunk] : [seq * chunk.length, chunk],
        }),
      );
    await host.next('collaboration.ack', (f) => f.payload.rev === 40, 10_000);

    // A raw client rejoining from revision 0: every edit since, then the snapshot (in pieces).
    const late = await relay.connect('late');
    late.send(clientFrame('collaboration.open', { document: 'log.txt', rev: 0 }));
    await late.until(
      () => late.of('collaboration.snapshot').some((f) => f.payload.more !== true),
      'the snapshot after the catch-up',
      10_000,
    );
    assert.deepEqual(late.of('disconnect'), [], 'not closed as a slow consumer');
    assert.deepEqual(
      late.of('collaboration.edit').map((f) => f.payload.rev),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    const assembler = new PieceAssembler();
    const whole = late
      .of('collaboration.snapshot')
      .map((f) => assembler.accept('collaboration.snapshot', f.payload))
      .filter((p) => p !== undefined);
    assert.equal(whole.length, 1);
    assert.equal(whole[0]!.rev, 40);
    assert.ok(whole[0]!.text === chunk.repeat(40), 'the snapshot is the text after the 40 edits');
    const lastEdit = late.frames.map((f) => f.event_type).lastIndexOf('collaboration.edit');
    const firstPiece = late.frames.findIndex((f) => f.event_type === 'collaboration.snapshot');
    assert.ok(lastEdit < firstPiece, 'the catch-up comes before the snapshot');
  });
});
