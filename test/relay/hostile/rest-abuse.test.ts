import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { mintInvite } from '../../../relay/auth/tokens';
import { jsonBody, LogSink, postNotification, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { callApi, createApiSession, expectApiError, personalToken } from '../../support/rest-api';
import { within } from '../../support/wait';

/**
 * Attacks on the REST surface (issue 11, item 9): guessing invites as fast as the relay
 * answers, one user hammering session creation, a body sent one byte at a time, a path that
 * breaks percent-decoding, and a JSON body sent as `text/plain` (what a cross-site form may do).
 */

describe('REST abuse: invite guessing is rate limited per address', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('answers 100 bad invite guesses in a row with API_RATE_LIMITED (and Retry-After) after the default 60', async () => {
    const statuses = new Map<number, number>();
    let retryAfter: string | string[] | undefined;
    for (let i = 0; i < 100; i++) {
      // Well-formed invites for sessions that do not exist: each costs a signature check and a lookup.
      const guess = mintInvite('not-the-relay-secret-0123456789', {
        sessionId: `ses-guess${i}`,
        role: 'editor',
        expiresAt: Math.floor(Date.now() / 1000) + 600,
      });
      const response = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite: guess } });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 429) {
        assert.equal(jsonBody(response).code, 'API_RATE_LIMITED');
        retryAfter = response.headers['retry-after'];
      }
    }
    assert.deepEqual(Object.fromEntries(statuses), { 401: 60, 429: 40 });
    assert.equal(retryAfter, '60');
    // The budget is the address's: a real invite from there waits too, nothing was redeemed.
    const session = await createOnOtherAddressBudget();
    const real = await callApi(relay, 'POST', '/api/invites/redeem', { body: { invite: session.invites.editor.token } });
    expectApiError(real, 429, 'API_RATE_LIMITED');
  });

  /** A session from a relay with its own budget (the attacked one has none left for this address). */
  async function createOnOtherAddressBudget() {
    const other = await startTestRelay();
    try {
      return await createApiSession(other);
    } finally {
      await other.stop();
    }
  }
});

describe('REST abuse: per-user limits', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ API_MAX_REQUESTS_PER_USER_PER_MINUTE: '3' });
  });
  after(() => relay.stop());

  it('stops one personal token creating sessions past its budget, while another user still can', async () => {
    const mallory = personalToken('mallory');
    for (let i = 0; i < 3; i++) await createApiSession(relay, {}, mallory);
    expectApiError(await callApi(relay, 'POST', '/api/sessions', { token: mallory, body: {} }), 429, 'API_RATE_LIMITED');
    await createApiSession(relay, {}, personalToken('alice'));
  });

  it('stops one token flooding notifications past its budget', async () => {
    const host = relay.token({ user: 'noisy-host', role: 'host', sessions: ['s-noisy'] });
    const listener = await relay.connect('listener', { sessions: ['s-noisy'] });
    for (let i = 0; i < 3; i++)
      assert.equal((await postNotification(relay, host, { session_id: 's-noisy', level: 'info', message: `n${i}` })).status, 202);
    expectApiError(
      await postNotification(relay, host, { session_id: 's-noisy', level: 'info', message: 'flood' }),
      429,
      'API_RATE_LIMITED',
    );
    // The refused one was not delivered: the next admin notice arrives right after n2.
    const admin = relay.token({ user: 'ops', role: 'host', admin: true, sessions: ['ops'] });
    assert.equal((await postNotification(relay, admin, { session_id: 's-noisy', level: 'info', message: 'after' })).status, 202);
    await listener.next('system.notification', (frame) => frame.payload.message === 'after');
    assert.deepEqual(
      listener.of('system.notification').map((frame) => frame.payload.message),
      ['n0', 'n1', 'n2', 'after'],
    );
  });
});

describe('REST abuse: slow requests, bad paths, bodies that are not declared JSON', () => {
  let relay: TestRelay;
  const logs = new LogSink();
  before(async () => {
    relay = await startTestRelay({ HTTP_REQUEST_TIMEOUT_MS: '1000', LOG_LEVEL: 'info' }, { logSink: logs });
  });
  after(() => relay.stop());

  /** Opens a raw socket, writes `text`, then nothing more; resolves with what came back once the relay closes it. */
  function sendAndStall(text: string): Promise<string> {
    const socket = connect(relay.relay.port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    socket.write(text);
    const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
    // Bounded: Node's default would hold the socket for 300 s.
    return within(closed, 10_000, 'the relay to give up on the stalled request').finally(() => socket.destroy());
  }

  it('closes a request whose body trickles in (408) instead of holding it for minutes', async () => {
    // A valid personal token, so that the relay goes on to read the body.
    const headers =
      `Host: 127.0.0.1\r\nAuthorization: Bearer ${personalToken('slow')}\r\nContent-Type: ` + `application/json\r\nContent-Length: 100\r\n`;
    const answer = await sendAndStall(`POST /api/sessions HTTP/1.1\r\n${headers}\r\n{`);
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });

  it('closes a request whose headers never end', async () => {
    await sendAndStall('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  });

  it('answers a malformed percent-encoding with 400 VALIDATION_FAILED, and logs no error or stack', async () => {
    const before = logs.lines.length;
    for (const path of ['/api/sessions/%E0%A4%A', '/api/sessions/%E0%A4%A/join-requests', '/api/join-requests/%ZZ']) {
      const response = await callApi(relay, 'GET', path);
      expectApiError(response, 400, 'VALIDATION_FAILED');
      assert.equal(jsonBody(response).path, 'path');
    }
    const written = logs.lines.slice(before).join('');
    assert.doesNotMatch(written, /"level":50|URIError|stack/);
  });

  it('refuses JSON bodies without Content-Type: application/json (415), and does nothing', async () => {
    const host = relay.token({ user: 'h', role: 'host', sessions: ['s-ct'] });
    const listener = await relay.connect('listener', { sessions: ['s-ct'] });
    const body = JSON.stringify({ session_id: 's-ct', level: 'info', message: 'forged by a form' });
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', undefined]) {
      const response = await callApi(relay, 'POST', '/api/notifications', {
        token: host,
        body,
        headers: contentType ? { 'Content-Type': contentType } : { 'Content-Type': '' },
      });
      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    for (const path of ['/api/sessions', '/api/invites/redeem']) {
      const response = await callApi(relay, 'POST', path, {
        token: personalToken('alice'),
        body: '{}',
        headers: { 'Content-Type': 'text/plain' },
      });
      expectApiError(response, 415, 'UNSUPPORTED_MEDIA_TYPE');
    }
    // Declared JSON (with a charset) is fine, and is the first notification the listener sees.
    const ok = await callApi(relay, 'POST', '/api/notifications', {
      token: host,
      body: JSON.stringify({ session_id: 's-ct', level: 'info', message: 'real' }),
      headers: { 'Content-Type': 'application/json; charset=utf-8' },
    });
    assert.equal(ok.status, 202, ok.text);
    await listener.next('system.notification', (frame) => frame.payload.message === 'real');
    assert.deepEqual(
      listener.of('system.notification').map((frame) => frame.payload.message),
      ['real'],
    );
  });
});
