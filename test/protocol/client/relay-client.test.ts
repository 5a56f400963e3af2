import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { decodeServerFrame } from '../../../protocol/codec';
import type { ConnectPayload } from '../../../protocol/schemas/system';
import {
  createBrowserTransport,
  createNodeWsTransport,
  type DisconnectInfo,
  type RelayAuthError,
  type RelayClientState,
} from '../../../protocol/client/index';
import {
  chatFrame,
  closeAll,
  connectFrame,
  createClient,
  disconnectFrame,
  frame,
  nextEvent,
  recordDisconnects,
  recordStates,
  startFakeRelay,
} from '../../support/fake-relay';
import { sleep, waitUntil } from '../../support/wait';

// Real sockets against small `ws` servers that play the relay for the case at hand.

const TIMEOUT = { timeout: 5000 };
afterEach(closeAll);

describe('RelayClient: connect, send, receive', () => {
  it('the fixtures are valid relay frames', () => {
    assert.equal(decodeServerFrame(connectFrame()).ok, true);
    assert.equal(decodeServerFrame(chatFrame('hi')).ok, true);
    assert.equal(decodeServerFrame(disconnectFrame({ reason: 'shutdown', message: 'bye', reconnect: true })).ok, true);
  });

  it('connects with the token and session in the URL and reports the connect payload', TIMEOUT, async () => {
    const relay = await startFakeRelay();
    const c = createClient({ url: relay.url, token: 'a.b+c', session: 'team/1' });
    const states = recordStates(c);
    assert.equal(c.state, 'closed');
    const connected = nextEvent<ConnectPayload>((l) => c.onConnected(l));
    c.connect();
    const payload = await connected;
    assert.equal(payload.connection_id, 'c1');
    assert.equal(payload.heartbeat_interval_ms, 30_000);
    assert.equal(c.connection?.relay_id, 'relay-1');
    assert.deepEqual(states, ['connecting', 'open']);
    assert.deepEqual(relay.upgrades, ['/ws?token=a.b%2Bc&session=team%2F1']);
  });

  it('sends typed events in the protocol envelope', TIMEOUT, async () => {
    const relay = await startFakeRelay();
    const c = createClient({ url: relay.url });
    assert.equal(c.send('chat.message', { content: 'too early' }), false);
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    const before = Date.now();
    assert.equal(c.send('chat.message', { content: 'hi', client_message_id: 'x1' }), true);
    assert.equal(c.send('collaboration.cursor', { document: 'src/a.ts', selections: [{ anchor: 1, head: 3 }] }), true);
    await waitUntil(() => relay.received.length >= 2, 'two frames at the relay');
    const [chat] = relay.received;
    assert.deepEqual(Object.keys(chat ?? {}).sort(), ['event_type', 'payload', 'timestamp']);
    assert.equal(chat?.event_type, 'chat.message');
    assert.deepEqual(chat?.payload, { content: 'hi', client_message_id: 'x1' });
    assert.ok(Math.abs(Date.parse(chat?.timestamp ?? '') - before) < 5000, 'ISO timestamp of now');
    assert.match(chat?.timestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/u);
    c.close();
    assert.equal(c.send('chat.message', { content: 'too late' }), false);
  });

  it('delivers validated frames to typed listeners and drops invalid ones with a protocol error', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame());
        socket.send(chatFrame(42)); // content must be a string
        socket.send('{not json');
        socket.send(frame('no.such.event', {}));
        socket.send(Buffer.from(chatFrame('binary')), { binary: true });
        socket.send(chatFrame('hello'));
      },
    });
    const c = createClient({ url: relay.url });
    const contents: string[] = [];
    const messageIds: string[] = [];
    c.on('chat.message', (payload, frame) => {
      contents.push(payload.content);
      messageIds.push(frame.payload.message_id);
    });
    const errors: Array<[string, string | undefined, string | undefined]> = [];
    c.onProtocolError((error, eventType) => errors.push([error.code, error.path, eventType]));
    const frames: string[] = [];
    c.onFrame((f) => frames.push(f.event_type));
    c.connect();
    await waitUntil(() => contents.length === 1, 'the valid chat');
    assert.deepEqual(contents, ['hello']);
    assert.deepEqual(messageIds, ['m1']);
    assert.deepEqual(errors, [
      ['VALIDATION_FAILED', 'payload.content', 'chat.message'],
      ['BAD_JSON', undefined, undefined],
      ['UNKNOWN_EVENT', 'event_type', 'no.such.event'],
    ]);
    assert.deepEqual(frames, ['connect', 'chat.message']);
    assert.equal(c.state, 'open', 'a bad frame does not end the connection');
  });

  it('with validateInbound: false, only parses', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame());
        socket.send(chatFrame(42));
        socket.send('[1,2]');
        socket.send(chatFrame('ok'));
      },
    });
    const c = createClient({ url: relay.url, validateInbound: false });
    const contents: unknown[] = [];
    c.on('chat.message', (payload) => contents.push(payload.content));
    const errors: string[] = [];
    c.onProtocolError((error) => errors.push(error.code));
    c.connect();
    await waitUntil(() => contents.length === 2, 'both chats');
    assert.deepEqual(contents, [42, 'ok']);
    assert.deepEqual(errors, ['VALIDATION_FAILED']);
  });

  it('with parse: false, hands every text frame raw to onRawFrame and parses nothing', TIMEOUT, async () => {
    const sent = [connectFrame(), '{not json', chatFrame('a')];
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        for (const text of sent) socket.send(text);
        socket.send(Buffer.from('binary'), { binary: true });
        socket.send('last');
      },
    });
    const c = createClient({ url: relay.url, parse: false });
    const raw: string[] = [];
    c.onRawFrame((text) => raw.push(text));
    let parsed = 0;
    c.onFrame(() => parsed++);
    c.onConnected(() => parsed++);
    c.onProtocolError(() => parsed++);
    c.on('chat.message', () => parsed++);
    const open = nextEvent<RelayClientState>((l) => c.onStateChange((s) => s === 'open' && l(s)));
    c.connect();
    await open;
    await waitUntil(() => raw.length === 4, 'four raw frames');
    assert.deepEqual(raw, [...sent, 'last']);
    assert.equal(parsed, 0);
    assert.equal(c.send('chat.message', { content: 'raw mode sends too' }), true);
    assert.equal(c.sendRaw(frame('chat.message', { content: 'pre-built' })), true);
    await waitUntil(() => relay.received.length === 2, 'both frames at the relay');
  });
});

describe('RelayClient: refused tokens', () => {
  const cases = [
    { status: 401, body: '{"code":"AUTH_TOKEN_EXPIRED","message":"The token has expired; mint a new one."}', code: 'AUTH_TOKEN_EXPIRED' },
    { status: 401, body: '{"code":"AUTH_TOKEN_INVALID","message":"bad signature"}', code: 'AUTH_TOKEN_INVALID' },
    { status: 401, body: 'Unauthorized', code: 'AUTH_TOKEN_INVALID' },
    { status: 403, body: '{"code":"SESSION_FORBIDDEN","message":"not your session"}', code: 'SESSION_FORBIDDEN' },
    { status: 400, body: '{"code":"SESSION_REQUIRED","message":"choose one"}', code: 'SESSION_REQUIRED' },
  ];
  for (const { status, body, code } of cases) {
    it(`stops with ${code} on ${status} ${body.slice(0, 30)}`, TIMEOUT, async () => {
      const relay = await startFakeRelay({ refuse: () => ({ status, body }) });
      const c = createClient({ url: relay.url, backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
      const states = recordStates(c);
      const disconnects = recordDisconnects(c);
      const authError = nextEvent<RelayAuthError>((l) => c.onAuthError(l));
      c.connect();
      const error = await authError;
      assert.ok(error instanceof Error);
      assert.equal(error.name, 'RelayAuthError');
      assert.equal(error.code, code);
      assert.equal(error.status, status);
      if (body.startsWith('{')) assert.equal(error.message, JSON.parse(body).message);
      assert.equal(c.state, 'closed');
      await sleep(100); // 100 backoff delays' worth: a retry would have happened
      assert.equal(relay.upgrades.length, 1, 'no second attempt');
      assert.deepEqual(states, ['connecting', 'closed']);
      assert.equal(disconnects.length, 1);
      assert.equal(disconnects[0]?.cause, 'handshake-rejected');
      assert.equal(disconnects[0]?.rejection?.status, status);
      assert.equal(disconnects[0]?.retry, undefined);
    });
  }

  it('retries 503 and 429 with backoff, then connects', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      refuse: (n) =>
        n === 1
          ? { status: 503, body: '{"code":"TOO_MANY_CONNECTIONS","message":"full"}' }
          : n === 2
            ? { status: 429, body: '' }
            : undefined,
    });
    const c = createClient({ url: relay.url, backoff: { baseDelayMs: 20, maxDelayMs: 100, random: () => 1 } });
    const disconnects = recordDisconnects(c);
    let authErrors = 0;
    c.onAuthError(() => authErrors++);
    const connected = nextEvent((l) => c.onConnected(l));
    c.connect();
    await connected;
    assert.equal(relay.upgrades.length, 3);
    assert.equal(authErrors, 0);
    assert.deepEqual(
      disconnects.map((d) => [d.cause, d.rejection?.status, d.retry?.attempt, d.retry?.delayMs]),
      [
        ['handshake-rejected', 503, 1, 20],
        ['handshake-rejected', 429, 2, 40],
      ],
    );
    assert.equal(disconnects[0]?.rejection?.body, '{"code":"TOO_MANY_CONNECTIONS","message":"full"}');
  });

  it('reads at most a bounded part of a refusal body', TIMEOUT, async () => {
    const relay = await startFakeRelay({ refuse: () => ({ status: 503, body: 'x'.repeat(200_000) }) });
    const c = createClient({
      url: relay.url,
      token: 't',
      transport: createNodeWsTransport(WebSocket, { maxRejectionBodyChars: 100 }),
      reconnect: false,
    });
    const info = nextEvent<DisconnectInfo>((l) => c.onDisconnected(l));
    c.connect();
    const { rejection } = await info;
    assert.equal(rejection?.status, 503);
    assert.equal(rejection?.body, 'x'.repeat(100));
    assert.equal(c.state, 'closed');
  });
});

describe('RelayClient: heartbeat', () => {
  it('pings a silent relay after one interval and reconnects after another', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: (socket) => socket.send(connectFrame(60)) });
    const c = createClient({ url: relay.url, backoff: { baseDelayMs: 5000, maxDelayMs: 5000, random: () => 0 } });
    const disconnects = recordDisconnects(c);
    const connectedAt = nextEvent((l) => c.onConnected(l)).then(() => Date.now());
    c.connect();
    const start = await connectedAt;
    const info = await nextEvent<DisconnectInfo>((l) => c.onDisconnected(l));
    const elapsed = Date.now() - start;
    assert.equal(info.cause, 'heartbeat-timeout');
    assert.equal(info.wasOpen, true);
    assert.ok(elapsed >= 110, `dead only after two intervals, was ${elapsed} ms`);
    assert.ok(elapsed < 2000, `dead soon after two intervals, was ${elapsed} ms`);
    const pings = relay.received.filter((f) => f.event_type === 'system.ping');
    assert.equal(pings.length, 1);
    assert.equal(typeof pings[0]?.payload.nonce, 'string');
    // random 0: the retry is immediate; a second connection proves the reconnect.
    await waitUntil(() => relay.upgrades.length === 2, 'reconnect', 2000);
    assert.equal(disconnects.length, 1);
  });

  it('stays connected when the relay answers pings, whatever it answers', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        // Roomy interval: the answer must beat it even on a loaded machine.
        socket.send(connectFrame(100));
        socket.on('message', (data) => {
          const f = JSON.parse(data.toString());
          if (f.event_type === 'system.ping') socket.send(frame('system.notification', { level: 'info', message: 'any frame will do' }));
        });
      },
    });
    const c = createClient({ url: relay.url });
    const disconnects = recordDisconnects(c);
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    await sleep(600);
    assert.equal(c.state, 'open');
    assert.equal(disconnects.length, 0);
    const pings = relay.received.filter((f) => f.event_type === 'system.ping').length;
    assert.ok(pings >= 3, `pinged while idle (${pings})`);
  });

  it('does not ping while frames keep arriving', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame(150));
        const timer = setInterval(() => socket.send(chatFrame('tick')), 10);
        socket.on('close', () => clearInterval(timer));
      },
    });
    const c = createClient({ url: relay.url });
    c.connect();
    await nextEvent((l) => c.onConnected(l));
    await sleep(450);
    assert.equal(c.state, 'open');
    assert.equal(relay.received.filter((f) => f.event_type === 'system.ping').length, 0);
  });

  it('gives up on an attempt that never reaches connect', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: () => undefined });
    const c = createClient({ url: relay.url, connectTimeoutMs: 80, reconnect: false });
    const info = nextEvent<DisconnectInfo>((l) => c.onDisconnected(l));
    c.connect();
    assert.equal((await info).cause, 'connect-timeout');
    assert.equal(c.state, 'closed');
  });
});

describe('RelayClient: reconnect', () => {
  it('backs off exponentially while connections fail, and close() stops it', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: (socket) => socket.close(1011, 'nope') });
    const c = createClient({ url: relay.url, backoff: { baseDelayMs: 10, maxDelayMs: 80, random: () => 1 } });
    const disconnects = recordDisconnects(c);
    const states = recordStates(c);
    c.connect();
    await waitUntil(() => disconnects.length >= 5, 'five failed attempts', 3000);
    assert.deepEqual(
      disconnects.slice(0, 5).map((d) => [d.cause, d.code, d.wasOpen, d.retry?.attempt, d.retry?.delayMs]),
      [
        ['transport-closed', 1011, false, 1, 10],
        ['transport-closed', 1011, false, 2, 20],
        ['transport-closed', 1011, false, 3, 40],
        ['transport-closed', 1011, false, 4, 80],
        ['transport-closed', 1011, false, 5, 80],
      ],
    );
    assert.deepEqual(states.slice(0, 4), ['connecting', 'reconnecting', 'connecting', 'reconnecting']);
    c.close();
    assert.equal(c.state, 'closed');
    const attempts = relay.upgrades.length;
    await sleep(250); // three times the longest delay
    assert.equal(relay.upgrades.length, attempts, 'no attempt after close()');
    assert.equal(c.state, 'closed');
  });

  it('starts the backoff again after a connection that reached connect', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        if (n % 2 === 1)
          socket.close(1011, 'fail'); // odd: fail before connect
        else {
          socket.send(connectFrame());
          setTimeout(() => socket.terminate(), 5); // even: connect, then drop
        }
      },
    });
    const c = createClient({ url: relay.url, backoff: { baseDelayMs: 10, maxDelayMs: 1000, random: () => 1 } });
    const disconnects = recordDisconnects(c);
    let connects = 0;
    c.onConnected(() => connects++);
    c.connect();
    await waitUntil(() => disconnects.length >= 6, 'six disconnects', 3000);
    c.close();
    assert.deepEqual(
      disconnects.slice(0, 6).map((d) => [d.wasOpen, d.retry?.attempt]),
      // Without the reset the attempts would climb 1..6.
      [
        [false, 1],
        [true, 1],
        [false, 2],
        [true, 1],
        [false, 2],
        [true, 1],
      ],
    );
    assert.equal(connects, 3);
  });

  it('reconnects after a relay disconnect that allows it', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket, n) => {
        socket.send(connectFrame());
        if (n === 1) {
          socket.send(disconnectFrame({ reason: 'shutdown', message: 'restarting', reconnect: true }));
          socket.close(1001, 'going away');
        }
      },
    });
    const c = createClient({ url: relay.url });
    const disconnects = recordDisconnects(c);
    c.connect();
    await waitUntil(() => relay.upgrades.length === 2 && c.state === 'open', 'second connection', 2000);
    assert.equal(disconnects[0]?.code, 1001);
    assert.equal(disconnects[0]?.serverDisconnect?.reason, 'shutdown');
    assert.ok(disconnects[0]?.retry);
  });

  it('honours a relay disconnect with reconnect: false', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame());
        socket.send(disconnectFrame({ reason: 'slow_consumer', message: 'too slow', reconnect: false }));
        socket.close(4008, 'slow consumer');
      },
    });
    const c = createClient({ url: relay.url, backoff: { baseDelayMs: 1, maxDelayMs: 1 } });
    const states = recordStates(c);
    const disconnects = recordDisconnects(c);
    const reasons: string[] = [];
    c.on('disconnect', (payload) => reasons.push(payload.reason));
    c.connect();
    await waitUntil(() => c.state === 'closed' && disconnects.length === 1, 'closed', 2000);
    await sleep(50);
    assert.equal(relay.upgrades.length, 1);
    assert.deepEqual(states, ['connecting', 'open', 'closed']);
    assert.deepEqual(reasons, ['slow_consumer']);
    assert.equal(disconnects[0]?.code, 4008);
    assert.equal(disconnects[0]?.serverDisconnect?.reconnect, false);
    assert.equal(disconnects[0]?.retry, undefined);
  });

  it('does not reconnect when told not to, and can be started again', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame());
        setTimeout(() => socket.terminate(), 5);
      },
    });
    const c = createClient({ url: relay.url, reconnect: false });
    c.connect();
    await waitUntil(() => c.state === 'closed' && relay.upgrades.length === 1, 'closed', 2000);
    await sleep(50);
    assert.equal(relay.upgrades.length, 1);
    c.connect();
    await waitUntil(() => relay.upgrades.length === 2, 'restarted', 2000);
  });

  it('asks a token provider before every attempt', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: (socket) => socket.close(1011, 'fail') });
    let minted = 0;
    const c = createClient({ url: relay.url, token: () => `token-${++minted}` });
    c.connect();
    await waitUntil(() => relay.upgrades.length >= 3, 'three attempts', 2000);
    c.close();
    assert.deepEqual(relay.upgrades.slice(0, 3), ['/ws?token=token-1', '/ws?token=token-2', '/ws?token=token-3']);
  });

  it('close() during connecting ends the attempt and stops', TIMEOUT, async () => {
    const relay = await startFakeRelay({ onConnection: () => undefined });
    const c = createClient({ url: relay.url });
    const disconnects = recordDisconnects(c);
    c.connect();
    await waitUntil(() => relay.sockets.length === 1, 'the attempt to reach the relay');
    c.close();
    assert.equal(c.state, 'closed');
    assert.deepEqual(
      disconnects.map((d) => [d.cause, d.retry]),
      [['client-closed', undefined]],
    );
    await waitUntil(() => relay.sockets[0]?.readyState === WebSocket.CLOSED, 'socket closed at the relay', 2000);
    assert.equal(relay.upgrades.length, 1);
  });

  it('a bad URL stops at once instead of retrying', () => {
    const c = createClient({ url: 'ftp://nowhere' });
    const disconnects = recordDisconnects(c);
    c.connect();
    assert.equal(c.state, 'closed');
    assert.equal(disconnects[0]?.cause, 'start-failed');
    assert.ok(disconnects[0]?.error instanceof TypeError);
  });
});

describe('transports', () => {
  // `ws` also implements the standard WebSocket interface, so it stands in for a browser here.
  it('the browser adapter carries text frames, drops binary ones and reports the close', TIMEOUT, async () => {
    const relay = await startFakeRelay({
      onConnection: (socket) => {
        socket.send(connectFrame());
        socket.send(Buffer.from(chatFrame('binary')), { binary: true });
        socket.send(chatFrame('text'));
        socket.on('message', () => socket.close(4321, 'bye'));
      },
    });
    const c = createClient({ url: relay.url, transport: createBrowserTransport(WebSocket), reconnect: false });
    const contents: string[] = [];
    c.on('chat.message', (payload) => contents.push(payload.content));
    const disconnected = nextEvent<DisconnectInfo>((l) => c.onDisconnected(l));
    c.connect();
    await waitUntil(() => contents.length === 1, 'the text chat');
    assert.equal(c.send('chat.message', { content: 'close please' }), true);
    const info = await disconnected;
    assert.deepEqual(contents, ['text']);
    assert.deepEqual([info.cause, info.code, info.reason, info.wasOpen], ['transport-closed', 4321, 'bye', true]);
  });

  it('the browser adapter cannot see a refusal, so the client keeps retrying with backoff', TIMEOUT, async () => {
    const relay = await startFakeRelay({ refuse: () => ({ status: 401, body: '{"code":"AUTH_TOKEN_EXPIRED","message":"expired"}' }) });
    const c = createClient({ url: relay.url, transport: createBrowserTransport(WebSocket), backoff: { baseDelayMs: 5, maxDelayMs: 20 } });
    const disconnects = recordDisconnects(c);
    let authErrors = 0;
    c.onAuthError(() => authErrors++);
    c.connect();
    await waitUntil(() => disconnects.length >= 3, 'three attempts', 2000);
    c.close();
    assert.equal(authErrors, 0);
    assert.deepEqual(
      disconnects.slice(0, 3).map((d) => [d.cause, d.rejection, d.wasOpen, d.retry?.attempt]),
      [
        ['transport-closed', undefined, false, 1],
        ['transport-closed', undefined, false, 2],
        ['transport-closed', undefined, false, 3],
      ],
    );
    assert.ok(disconnects[0]?.error instanceof Error);
  });

  it('the node adapter reports a refusal once, after its body, and no error beside it', TIMEOUT, async () => {
    const relay = await startFakeRelay({ refuse: () => ({ status: 401, body: '{"code":"AUTH_TOKEN_EXPIRED","message":"é😀 expired"}' }) });
    const events: string[] = [];
    const done = new Promise<void>((resolve) => {
      createNodeWsTransport(WebSocket)(`${relay.url}?token=t`, {
        open: () => events.push('open'),
        message: () => events.push('message'),
        error: (error) => events.push(`error ${error.message}`),
        close: (info) => {
          events.push(`close ${info.code} ${info.rejection?.status} ${info.rejection?.body}`);
          setTimeout(resolve, 20); // room for a stray second close
        },
      });
    });
    await done;
    assert.deepEqual(events, ['close 1006 401 {"code":"AUTH_TOKEN_EXPIRED","message":"é😀 expired"}']);
  });

  it('the node adapter reports a refused TCP connection as error then close', TIMEOUT, async () => {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve)); // nothing listens there now
    const events: string[] = [];
    await new Promise<void>((resolve) => {
      createNodeWsTransport(WebSocket)(`ws://127.0.0.1:${port}/ws`, {
        open: () => events.push('open'),
        message: () => events.push('message'),
        error: (error) => events.push(`error ${(error as NodeJS.ErrnoException).code}`),
        close: (info) => {
          events.push(`close ${info.code} ${String(info.rejection)}`);
          resolve();
        },
      });
    });
    assert.deepEqual(events, ['error ECONNREFUSED', 'close 1006 undefined']);
  });
});
