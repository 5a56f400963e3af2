import assert from 'node:assert/strict';
import jwt from 'jsonwebtoken';
import { after, before, describe, it } from 'node:test';
import { mintToken } from '../../../relay/auth/tokens';
import {
  fetchStats,
  LogSink,
  openTestClient,
  refusedUpgrade,
  startTestRelay,
  TEST_SECRET,
  type TestRelay,
} from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

const inFiveMinutes = () => Math.floor(Date.now() / 1000) + 300;

/** Valid claims for `s1`; each refusal case breaks one thing. */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const all: Record<string, unknown> = {
    sub: 'alice',
    name: 'Alice',
    sessions: ['s1'],
    role: 'editor',
    exp: inFiveMinutes(),
    ...overrides,
  };
  // An override of `undefined` removes the claim.
  return Object.fromEntries(Object.entries(all).filter(([, value]) => value !== undefined));
}

/** Signs claims as given (jsonwebtoken's `expiresIn` cannot make an expired or exp-less token). */
function sign(payload: Record<string, unknown>, secret = TEST_SECRET, algorithm: jwt.Algorithm = 'HS256'): string {
  return jwt.sign(payload, secret, { algorithm });
}

/** An unsigned token (`alg: none`), the classic JWT forgery. */
function unsigned(payload: Record<string, unknown>): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

interface RefusalCase {
  name: string;
  token: string | undefined;
  query?: string;
  status: number;
  code: string;
}

const refusals: RefusalCase[] = [
  { name: 'no token', token: undefined, status: 401, code: 'AUTH_TOKEN_MISSING' },
  {
    name: 'a token signed with another secret',
    token: sign(claims(), 'another-secret-0123456789abcdef'),
    status: 401,
    code: 'AUTH_TOKEN_INVALID',
  },
  { name: 'an expired token', token: sign(claims({ exp: Math.floor(Date.now() / 1000) - 60 })), status: 401, code: 'AUTH_TOKEN_EXPIRED' },
  { name: 'a malformed token', token: 'not-a.jwt.at-all', status: 401, code: 'AUTH_TOKEN_INVALID' },
  { name: 'an unsigned (alg none) token', token: unsigned(claims()), status: 401, code: 'AUTH_TOKEN_INVALID' },
  {
    name: 'a token signed with another algorithm (HS512)',
    token: sign(claims(), TEST_SECRET, 'HS512'),
    status: 401,
    code: 'AUTH_TOKEN_INVALID',
  },
  { name: 'a token with role "admin"', token: sign(claims({ role: 'admin' })), status: 401, code: 'AUTH_TOKEN_INVALID' },
  { name: 'a token with no sessions', token: sign(claims({ sessions: [] })), status: 401, code: 'AUTH_TOKEN_INVALID' },
  { name: 'a token with no subject', token: sign(claims({ sub: undefined })), status: 401, code: 'AUTH_TOKEN_INVALID' },
  { name: 'a token with no expiry', token: sign(claims({ exp: undefined })), status: 401, code: 'AUTH_TOKEN_INVALID' },
  { name: 'a session the token does not allow', token: sign(claims()), query: '&session=other', status: 403, code: 'SESSION_FORBIDDEN' },
  {
    name: 'a multi-session token without ?session=',
    token: sign(claims({ sessions: ['s1', 's2'] })),
    status: 400,
    code: 'SESSION_REQUIRED',
  },
];

describe('authentication at the upgrade', () => {
  let relay: TestRelay;
  const log = new LogSink();
  before(async () => {
    relay = await startTestRelay({}, { logSink: log });
  });
  after(() => relay.stop());

  it('accepts a token in ?token=', async () => {
    const token = relay.token({ user: 'alice', name: 'Alice' });
    const client = await openTestClient(`${relay.url}?token=${token}`);
    try {
      const connect = await client.next('connect');
      assert.equal(connect.payload.user.user_id, 'alice');
      assert.equal(connect.payload.session_id, 's1');
      assert.ok(!log.text.includes(token), 'the log never contains the token');
    } finally {
      client.close();
    }
  });

  it('accepts a token in an Authorization: Bearer header', async () => {
    const token = relay.token({ user: 'bob' });
    const client = await openTestClient(relay.url, { headers: { Authorization: `Bearer ${token}` } });
    try {
      const connect = await client.next('connect');
      assert.equal(connect.payload.user.user_id, 'bob');
      assert.ok(!log.text.includes(token), 'the log never contains the token');
    } finally {
      client.close();
    }
  });

  it('lets a multi-session token choose its session with ?session=', async () => {
    const token = relay.token({ user: 'carol', sessions: ['s1', 's2'] });
    const client = await openTestClient(`${relay.url}?token=${token}&session=s2`);
    try {
      assert.equal((await client.next('connect')).payload.session_id, 's2');
    } finally {
      client.close();
    }
  });

  for (const refusal of refusals) {
    it(`refuses ${refusal.name} with HTTP ${refusal.status} ${refusal.code} and opens no socket`, async () => {
      await waitUntil(async () => (await fetchStats(relay)).connections === 0, 'earlier connections to be gone');
      const before = await fetchStats(relay);
      const query = refusal.token === undefined ? '' : `?token=${refusal.token}${refusal.query ?? ''}`;
      const answer = await refusedUpgrade(`${relay.url}${query}`);

      assert.equal(answer.status, refusal.status);
      assert.match(answer.contentType ?? '', /^application\/json/);
      assert.equal(answer.body.code, refusal.code);
      assert.equal(typeof answer.body.message, 'string');
      const after = await fetchStats(relay);
      assert.equal(after.connections_refused, before.connections_refused + 1, 'the refusal is counted');
      assert.equal(after.errors[refusal.code], (before.errors[refusal.code] ?? 0) + 1, 'the refusal is counted by code');
      assert.equal(after.connections_total, before.connections_total, 'no connection was admitted');
      assert.equal(after.connections, 0);
      const logged = log.records('connection refused').filter((record) => record.code === refusal.code);
      assert.ok(logged.length > 0, 'the refusal is logged with its code');
      if (refusal.token !== undefined) {
        assert.ok(!log.text.includes(refusal.token), 'the log never contains the token');
        assert.ok(!JSON.stringify(answer.body).includes(refusal.token), 'the answer never echoes the token');
      }
    });
  }

  it('refuses a bad token sent in the Authorization header with 401', async () => {
    const token = mintToken('another-secret-0123456789abcdef', { user: 'mallory', sessions: ['s1'], role: 'host', ttl: '5m' });
    const answer = await refusedUpgrade(relay.url, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 401);
    assert.equal(answer.body.code, 'AUTH_TOKEN_INVALID');
    assert.ok(!log.text.includes(token), 'the log never contains the token');
  });

  it('refuses an upgrade on a path other than /ws with 404 NOT_FOUND', async () => {
    const token = relay.token({ user: 'alice' });
    const answer = await refusedUpgrade(`${relay.url.replace(/\/ws$/, '/socket')}?token=${token}`);
    assert.equal(answer.status, 404);
    assert.equal(answer.body.code, 'NOT_FOUND');
  });

  it('logged at debug level throughout, so the token checks above saw every line', () => {
    assert.ok(log.records('connected').length >= 3, 'accepted connections are logged at debug level');
    assert.ok(log.records('connection refused').length >= refusals.length);
  });
});
