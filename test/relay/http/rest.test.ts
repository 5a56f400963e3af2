import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { httpRequest, jsonBody, postNotification, startTestRelay, type TestClient, type TestRelay } from '../../support/relay-fixture';

const ALLOWED = 'http://allowed.test';
const MAX_BODY_BYTES = 64 * 1024;

describe('CORS', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ CORS_ORIGINS: ALLOWED });
  });
  after(() => relay.stop());

  it('allows a configured origin', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health`, { headers: { Origin: ALLOWED } });
    assert.equal(response.status, 200);
    assert.equal(response.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(response.headers.vary), /Origin/);
  });

  it('sends no CORS headers to another origin', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health`, { headers: { Origin: 'http://evil.test' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });

  it('answers a preflight from the allowed origin with 204 and the allowed methods and headers', async () => {
    const response = await httpRequest(`${relay.httpUrl}/api/notifications`, {
      method: 'OPTIONS',
      headers: {
        Origin: ALLOWED,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(response.text, '');
    assert.equal(response.headers['access-control-allow-origin'], ALLOWED);
    assert.match(String(response.headers['access-control-allow-methods']), /\bPOST\b/);
    assert.match(String(response.headers['access-control-allow-headers']), /Authorization/i);
    assert.match(String(response.headers['access-control-allow-headers']), /Content-Type/i);
  });

  it('puts the CORS headers on error answers too, so a browser can read the error', async () => {
    const response = await httpRequest(`${relay.httpUrl}/api/notifications`, { method: 'POST', headers: { Origin: ALLOWED }, body: '{}' });
    assert.equal(response.status, 401);
    assert.equal(response.headers['access-control-allow-origin'], ALLOWED);
  });
});

describe('CORS by default', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay();
  });
  after(() => relay.stop());

  it('allows no origin unless CORS_ORIGINS says so', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health`, { headers: { Origin: ALLOWED } });
    assert.equal(response.status, 200);
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });
});

describe('routes and request bodies', () => {
  let relay: TestRelay;
  let listener: TestClient;
  let host: string;
  before(async () => {
    relay = await startTestRelay();
    listener = await relay.connect('alice');
    host = relay.token({ user: 'hank', role: 'host', sessions: ['s1'] });
  });
  after(() => relay.stop());
  /** A valid notification for s1 padded with JSON whitespace to exactly `bytes` bytes. */
  const paddedBody = (message: string, bytes: number) => {
    const json = JSON.stringify({ level: 'info', message, session_id: 's1' });
    return json + ' '.repeat(bytes - Buffer.byteLength(json));
  };
  const post = (body: string) => postNotification(relay, host, body);

  it('answers an unknown route with 404 and a JSON code', async () => {
    const response = await httpRequest(`${relay.httpUrl}/no/such/route`);
    assert.equal(response.status, 404);
    assert.match(response.headers['content-type'] ?? '', /^application\/json/);
    assert.equal(jsonBody(response).code, 'NOT_FOUND');
  });

  it('answers a known path with the wrong method with 404', async () => {
    const response = await httpRequest(`${relay.httpUrl}/health`, { method: 'POST', body: '{}' });
    assert.equal(response.status, 404);
    assert.equal(jsonBody(response).code, 'NOT_FOUND');
  });

  it('accepts a body of exactly 64 KiB', async () => {
    const response = await post(paddedBody('just fits', MAX_BODY_BYTES));
    assert.equal(response.status, 202, response.text);
    assert.equal((await listener.next('system.notification')).payload.message, 'just fits');
  });

  it('refuses a body one byte over 64 KiB with 413 FRAME_TOO_LARGE, and delivers nothing', async () => {
    const response = await post(paddedBody('too large', MAX_BODY_BYTES + 1));
    assert.equal(response.status, 413);
    assert.equal(jsonBody(response).code, 'FRAME_TOO_LARGE');
    // A small notification afterwards is the marker: the refused one would have come first.
    assert.equal((await post(paddedBody('marker', 100))).status, 202);
    await listener.next('system.notification', (f) => f.payload.message === 'marker');
    assert.ok(!listener.of('system.notification').some((f) => f.payload.message === 'too large'));
  });

  it('answers (rather than resets) a much larger body', async () => {
    const response = await post(paddedBody('huge', 1024 * 1024));
    assert.equal(response.status, 413);
    assert.equal(jsonBody(response).code, 'FRAME_TOO_LARGE');
  });
});
