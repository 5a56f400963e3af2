/**
 * Faults across the whole deployment: relay processes from the bundle on a real redis-server,
 * behind a real nginx (docker/nginx.conf rendered for loopback), with the typed client.
 * Needs nginx and redis-server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { closeCodes, MAX_CHAT_CHARS, type ServerFrame } from '../../../protocol';
import { mintToken } from '../../../relay/auth/tokens';
import { freePort, NginxProcess, requireBinary, startRelays, TEST_SECRET } from '../../deploy/helpers';
import { OtPeer, prng, randomEdit } from '../../support/ot-peer';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { clientFrame, httpRequest, jsonBody, openTestClient, type TestClient } from '../../support/relay-fixture';
import type { RelayProcess } from '../../support/relay-process';
import { sleep, waitUntil, within } from '../../support/wait';

const DOC = 'notes/fault.md';
const MARKER = /⟦[^⟧]*⟧/gu;
/** The bound: clients of a killed relay are back, on the other one, within this. */
const RECONNECT_BOUND_MS = 5000;
const relaySettings = (redisUrl: string, extra: Record<string, string> = {}) => ({
  REDIS_URL: redisUrl,
  LOG_LEVEL: 'INFO',
  WS_MAX_MESSAGES_PER_SECOND: '100000',
  // Every client comes through nginx, from one address.
  WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000',
  ...extra,
});
// Hosts: whichever peer opens the document first creates it, which only a host may do.
const token = (user: string, session: string) => mintToken(TEST_SECRET, { user, sessions: [session], role: 'host', ttl: '10m' });

/** An OT peer that also chats: every chat message it sends carries a unique marker. */
class ChattingEditor {
  readonly peer: OtPeer;
  /** Chat contents in the order this client received them (its chat log). */
  readonly chatLog: string[] = [];
  readonly chatsSent: string[] = [];
  readonly markersInserted: string[] = [];
  /** When each `connect` arrived, and from which relay. */
  readonly connects: Array<{ at: number; relay: string; recovered?: boolean; missed?: number }> = [];
  edits = 0;

  constructor(
    url: string,
    session: string,
    readonly name: string,
  ) {
    this.peer = new OtPeer(url, token(name, session), name, DOC, 'fault tolerant 👋🏽\n');
    this.peer.client.onConnected((payload) =>
      this.connects.push({
        at: Date.now(),
        relay: payload.relay_id,
        recovered: payload.session_log?.recovered,
        missed: payload.session_log?.missed,
      }),
    );
    this.peer.client.on('chat.message', (payload) => this.chatLog.push(payload.content));
  }

  get relay(): string | undefined {
    return this.connects.at(-1)?.relay;
  }

  async run(random: () => number, stopped: () => boolean): Promise<void> {
    for (let n = 0; !stopped(); n++) {
      await sleep(2 + Math.floor(random() * 8));
      if (random() < 0.3) {
        const content = `✉${this.name}#${n}`;
        // Queued while disconnected, and resent after a reconnect until it is seen logged.
        this.peer.client.sendChat({ content });
        this.chatsSent.push(content);
        continue;
      }
      if (!this.peer.doc) continue;
      const text = this.peer.text;
      const spans = [...text.matchAll(MARKER)].map((m): [number, number] => [m.index, m.index + m[0].length]);
      const marker = random() < 0.4 ? `⟦${this.name}#${n}⟧` : undefined;
      const op = randomEdit(text, random, { protectedSpans: spans, insert: marker });
      if (!op) continue;
      this.peer.edit(op);
      this.edits++;
      if (marker) this.markersInserted.push(marker);
    }
  }
}

describe('two relay processes behind nginx on a real redis-server', () => {
  let redis: RedisServer;
  let dir: string;
  let relays: RelayProcess[] = [];
  let nginx: NginxProcess | undefined;
  let nginxPort: number;
  const editors: ChattingEditor[] = [];

  before(async () => {
    requireBinary('nginx', 'nginx');
    redis = await startRedisServer();
    dir = mkdtempSync(join(tmpdir(), 'tandem-nginx-faults-'));
    relays = await startRelays(['relay-a', 'relay-b'], relaySettings(redis.url));
    nginxPort = await freePort();
    nginx = await NginxProcess.start(
      join(dir, 'nginx'),
      { relays: relays.map((relay) => relay.address), listen: { host: '127.0.0.1', port: nginxPort } },
      () => `http://127.0.0.1:${nginxPort}/health`,
    );
  });

  after(async () => {
    for (const editor of editors) editor.peer.dispose();
    await nginx?.stop();
    await Promise.all(relays.map((relay) => relay.stop()));
    await redis?.dispose();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach((t) => redis.printLogIfFailed(t));

  it(
    'kill -9 of a relay while clients edit one document and chat: they reconnect through nginx within 5 s, nothing lost or ' + 'twice',
    async (t) => {
      const session = `faults-${process.pid}`;
      const url = `ws://127.0.0.1:${nginxPort}/ws`;
      for (let i = 0; i < 4; i++) {
        const editor = new ChattingEditor(url, session, `editor-${i}`);
        editors.push(editor);
        await within(editor.peer.start(), 10_000, `${editor.name} to open the document`);
      }
      const onRelay = (id: string) => editors.filter((e) => e.relay === id);
      // Round robin spreads them; the victim is a relay that holds some of them.
      const [victim, survivor] = onRelay(relays[0]!.id).length > 0 ? [relays[0]!, relays[1]!] : [relays[1]!, relays[0]!];
      const victims = onRelay(victim.id);
      assert.ok(victims.length > 0 && victims.length < editors.length, `clients on both relays: ${editors.map((e) => e.relay).join(', ')}`);

      let stopped = false;
      const loops = editors.map((editor, i) => editor.run(prng(9100 + i), () => stopped));
      const progress = () => editors.reduce((sum, e) => sum + e.edits + e.chatsSent.length, 0);
      await waitUntil(() => progress() >= 200, 'edits and chat before the crash', 20_000, 10);

      const connectsBefore = new Map(victims.map((e) => [e, e.connects.length]));
      const killedAt = Date.now();
      await victim.kill();
      const pendingAtKill = victims.reduce((sum, e) => sum + e.peer.client.pendingChat.length, 0);
      await waitUntil(
        () => victims.every((e) => e.connects.length > connectsBefore.get(e)! && e.relay === survivor.id),
        `every client of the killed relay back on ${survivor.id}`,
        RECONNECT_BOUND_MS,
        5,
      );
      const reconnectMs = victims.map((e) => e.connects.at(-1)!.at - killedAt);
      const resumes = victims.map((e) => e.connects.at(-1)!);
      t.diagnostic(
        `reconnect after kill -9 through nginx: ${reconnectMs.join(', ')} ms (max ${Math.max(...reconnectMs)} ms); ` +
          `missed events replayed: ${resumes.map((r) => r.missed).join(', ')}; chat pending at the kill: ${pendingAtKill}`,
      );
      assert.ok(Math.max(...reconnectMs) < RECONNECT_BOUND_MS);
      assert.ok(
        resumes.every((r) => r.recovered === true),
        'every one resumed its session log',
      );

      const atKill = progress();
      await waitUntil(() => progress() >= atKill + 200, 'edits and chat after the crash', 20_000, 10);
      stopped = true;
      await Promise.all(loops);

      // Documents: everyone in step, one text, every marker exactly once.
      const peers = editors.map((e) => e.peer);
      await waitUntil(() => peers.every((p) => p.settled || p.problems.length > 0), 'every client in step', 25_000, 20);
      assert.deepEqual(
        peers.flatMap((p) => p.problems),
        [],
      );
      await waitUntil(() => new Set(peers.map((p) => p.doc!.revision)).size === 1, 'every client at one revision', 10_000);
      const text = peers[0]!.text;
      for (const peer of peers) assert.equal(peer.text, text, `${peer.clientId} text`);
      const inserted = editors.flatMap((e) => e.markersInserted);
      assert.deepEqual([...(text.match(MARKER) ?? [])].sort(), inserted.sort(), 'every edit marker exactly once');

      // Chat: every message logged once, and one log, in one order, everywhere.
      const sent = editors.flatMap((e) => e.chatsSent);
      await waitUntil(
        () => editors.every((e) => e.chatLog.length >= sent.length && e.peer.client.pendingChat.length === 0),
        `${sent.length} chat messages at every client`,
        15_000,
        20,
      );
      await sleep(200); // nothing more is on its way
      const log = editors[0]!.chatLog;
      assert.equal(new Set(log).size, log.length, 'no message twice');
      assert.deepEqual([...log].sort(), [...sent].sort(), 'every message exactly once');
      for (const editor of editors) assert.deepEqual(editor.chatLog, log, `${editor.name}'s chat log`);
      for (const editor of editors) {
        const own = log.filter((content) => content.startsWith(`✉${editor.name}#`));
        assert.deepEqual(own, editor.chatsSent, `${editor.name}'s messages in the order sent`);
      }
      assert.ok(victims.every((e) => e.peer.client.sessionLogPosition !== undefined));
    },
  );
});

describe('a slow consumer on one relay while the session goes on across two', () => {
  const MAX_BUFFERED = 64 * 1024;
  const CONTENT = '€'.repeat(MAX_CHAT_CHARS);
  let redis: RedisServer;
  let relays: RelayProcess[] = [];
  const clients: TestClient[] = [];

  before(async () => {
    redis = await startRedisServer();
    relays = await startRelays(['relay-slow-a', 'relay-slow-b'], relaySettings(redis.url, { WS_MAX_BUFFERED_BYTES: String(MAX_BUFFERED) }));
  });
  after(async () => {
    for (const client of clients) client.socket.terminate();
    await Promise.all(relays.map((relay) => relay.stop()));
    await redis?.dispose();
  });
  afterEach((t) => redis.printLogIfFailed(t));

  const wsUrl = (relay: RelayProcess, user: string, query = '') => `${relay.url}?token=${token(user, 'slow')}${query}`;
  const connect = async (relay: RelayProcess, user: string, query?: string) => {
    const client = await openTestClient(wsUrl(relay, user, query), {}, 10_000);
    clients.push(client);
    return client;
  };
  const slowConsumers = async (relay: RelayProcess) =>
    jsonBody<{ errors: Record<string, number> }>(await httpRequest(`${relay.httpUrl}/ws/stats`)).errors.SLOW_CONSUMER ?? 0;
  const ids = (client: TestClient) => client.of('chat.message').map((f) => f.payload.client_message_id);
  const offsetOf = (frame: ServerFrame) => (frame as { offset?: number }).offset;

  it(
    'closes the client that stops reading on relay A; readers on A and B get everything, and the sloth resumes with exactly the ' + 'rest',
    async () => {
      const [a, b] = relays as [RelayProcess, RelayProcess];
      const sloth = await connect(a, 'sloth');
      const readerA = await connect(a, 'reader-a');
      const readerB = await connect(b, 'reader-b');
      const publisher = await connect(b, 'publisher');
      sloth.socket.pause();
      let sent = 0;
      const publish = async (count: number) => {
        for (let i = 0; i < count; i++, sent++) {
          const id = `m${sent}`;
          publisher.send(clientFrame('chat.message', { content: CONTENT, client_message_id: id }));
          // One in flight at a time: the healthy readers never fall behind.
          await readerA.next('chat.message', (f) => f.payload.client_message_id === id, 10_000);
          await readerB.next('chat.message', (f) => f.payload.client_message_id === id, 10_000);
        }
      };
      while ((await slowConsumers(a)) === 0) {
        assert.ok(sent < 3000, `no slow consumer after ${sent} messages`);
        await publish(2);
      }
      await publish(20);
      assert.equal(await slowConsumers(a), 1, 'only the sloth');
      assert.equal(await slowConsumers(b), 0);
      const expected = Array.from({ length: sent }, (_, i) => `m${i}`);
      for (const reader of [readerA, readerB]) {
        assert.deepEqual(ids(reader), expected, 'every message, in order');
        assert.equal(reader.of('error').length, 0);
        assert.equal(reader.socket.readyState, WebSocket.OPEN);
      }

      sloth.socket.resume();
      const closed = await within(sloth.closed, 5000, 'the sloth to see its connection closed');
      assert.ok(closed.code === closeCodes.SLOW_CONSUMER || closed.code === 1006, `closed with ${closed.code}`);
      const disconnect = sloth.of('disconnect')[0];
      if (disconnect) assert.equal(disconnect.payload.reason, 'slow_consumer');
      const prefix = ids(sloth);
      assert.ok(prefix.length < sent, `the sloth cannot have everything (${prefix.length} of ${sent})`);
      assert.deepEqual(prefix, expected.slice(0, prefix.length), 'an in-order prefix');

      // Back, reading this time, from the last logged event it saw: exactly the rest (paced, not
      // taken for a slow consumer again although it is far more than its buffer).
      const logged = sloth.frames.map(offsetOf).filter((o): o is number => o !== undefined);
      const epoch = sloth.of('connect')[0]!.payload.session_log!.epoch;
      const position = logged.at(-1) ?? sloth.of('connect')[0]!.payload.session_log!.offset;
      const back = await connect(a, 'sloth', `&since_offset=${position}&since_epoch=${epoch}`);
      assert.equal(back.of('connect')[0]!.payload.session_log?.recovered, true);
      await back.until(() => ids(back).length === sent - prefix.length, 'the rest', 20_000);
      assert.deepEqual([...prefix, ...ids(back)], expected);
      assert.equal(await slowConsumers(a), 1);
    },
  );
});
