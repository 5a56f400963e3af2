import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { verifyOperator, verifyOperatorToken, verifyPersonalToken, verifyToken } from '../../../relay/auth/tokens';
import { runRelayCli } from '../../support/cli';

const SECRET = 'cli-test-secret-0123456789';

describe('relay CLI', () => {
  it('`relay token` prints a JWT with the requested claims and expiry', () => {
    const result = runRelayCli(
      ['token', '--user', 'alice', '--session', 's1', '--session', 's2', '--role', 'host', '--name', 'Alice A.', '--ttl', '2h'],
      { AUTH_SECRET: SECRET },
    );
    assert.equal(result.status, 0, result.stderr);
    const token = result.stdout.trim();
    const principal = verifyToken(SECRET, token);
    assert.deepEqual(principal, {
      userId: 'alice',
      displayName: 'Alice A.',
      sessions: ['s1', 's2'],
      role: 'host',
      admin: false,
      recordRequired: false,
    });
    const { exp, iat } = jwt.decode(token) as { exp: number; iat: number };
    assert.equal(exp - iat, 7200);
  });

  it('`relay token` defaults to an editor token valid for one hour', () => {
    const result = runRelayCli(['token', '--user', 'bob', '--session', 's1'], { AUTH_SECRET: SECRET });
    assert.equal(result.status, 0, result.stderr);
    const { role, exp, iat } = jwt.decode(result.stdout.trim()) as { role: string; exp: number; iat: number };
    assert.equal(role, 'editor');
    assert.equal(exp - iat, 3600);
  });

  it('`relay token --personal` prints a personal token (30 days) that cannot join a session', () => {
    const result = runRelayCli(['token', '--user', 'alice', '--name', 'Alice', '--personal'], { AUTH_SECRET: SECRET });
    assert.equal(result.status, 0, result.stderr);
    const token = result.stdout.trim();
    assert.deepEqual(verifyPersonalToken(SECRET, token), { userId: 'alice', displayName: 'Alice' });
    assert.throws(() => verifyToken(SECRET, token), /personal token cannot join a session/);
    const { exp, iat } = jwt.decode(token) as { exp: number; iat: number };
    assert.equal(exp - iat, 30 * 86400);
  });

  it('`relay token --operator` prints an operator token (1 hour) that joins no session and passes the operator check', () => {
    const result = runRelayCli(['token', '--user', 'ops', '--operator'], { AUTH_SECRET: SECRET });
    assert.equal(result.status, 0, result.stderr);
    const token = result.stdout.trim();
    assert.deepEqual(verifyOperatorToken(SECRET, token), { userId: 'ops', displayName: 'ops' });
    assert.deepEqual(verifyOperator(SECRET, token), { userId: 'ops', displayName: 'ops' });
    assert.throws(() => verifyToken(SECRET, token), /operator token joins no session/);
    const { exp, iat } = jwt.decode(token) as { exp: number; iat: number };
    assert.equal(exp - iat, 3600);
    const refused = runRelayCli(['token', '--user', 'ops', '--operator', '--session', 's1'], { AUTH_SECRET: SECRET });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /--operator takes no --personal, --session or --admin/);
  });

  it('`relay token` signs with the development secret `relay serve` generated', () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'tandem-cli-'));
    const first = runRelayCli(['token', '--user', 'a', '--session', 's1'], { RELAY_STATE_DIR: stateDir });
    const second = runRelayCli(['token', '--user', 'a', '--session', 's1'], { RELAY_STATE_DIR: stateDir });
    assert.equal(first.status, 0, first.stderr);
    const secret = readFileSync(join(stateDir, 'dev-secret'), 'utf8').trim();
    verifyToken(secret, first.stdout.trim());
    verifyToken(secret, second.stdout.trim());
  });

  it('refuses bad arguments with one clear line and exit code 2', () => {
    const cases: Array<[string[], RegExp]> = [
      [['token', '--session', 's1'], /--user is required/],
      [['token', '--user', 'a'], /--session is required/],
      [['token', '--user', 'a', '--session', 's1', '--role', 'owner'], /--role must be host, editor or viewer \(got "owner"\)/],
      [['token', '--user', 'a', '--session', 's1', '--ttl', 'forever'], /--ttl must be seconds or a duration/],
      [['token', '--user', 'a b', '--session', 's1'], /invalid value/],
      [['token', '--usr', 'a'], /Unknown option '--usr'/],
      [['token', '--user', 'a', '--personal', '--session', 's1'], /--personal takes no --session or --admin/],
      [['launch'], /unknown command "launch"/],
    ];
    for (const [args, expected] of cases) {
      const result = runRelayCli(args, { AUTH_SECRET: SECRET });
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
      assert.equal(result.stdout, '');
    }
  });

  it('`relay serve` stops at start-up with one line naming a bad setting', () => {
    const result = runRelayCli(['serve'], { AUTH_SECRET: SECRET, WS_PORT: 'eighty' });
    assert.equal(result.status, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1);
    assert.match(result.stderr, /^relay: Invalid configuration: WS_PORT must be an integer/);
  });

  it('`relay serve` refuses to start in production without AUTH_SECRET', () => {
    const result = runRelayCli(['serve'], { NODE_ENV: 'production', WS_PORT: '0' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /AUTH_SECRET is required when NODE_ENV=production/);
  });

  it('`relay help` lists the commands and every setting', () => {
    const result = runRelayCli(['help']);
    assert.equal(result.status, 0);
    for (const word of ['serve', 'token', 'REDIS_URL', 'WS_HOST', 'WS_PORT', 'AUTH_SECRET', 'LOG_LEVEL', 'WS_MAX_FRAME_BYTES']) {
      assert.ok(result.stdout.includes(word), `help mentions ${word}`);
    }
  });
});
