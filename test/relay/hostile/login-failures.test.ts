import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mintToken } from '../../../relay/auth/tokens';
import { fetchStats, refusedUpgrade, startTestRelay } from '../../support/relay-fixture';

/**
 * Issue 11, item 10: refused tokens used to count toward the per-address connection limit, so
 * one attacker behind a NAT (or a proxy's address) locked out everyone else there by sending bad
 * tokens. Failures now have a budget of their own; valid tokens keep connecting.
 */
describe('failed logins and the per-address connection limit', () => {
  it('lets valid users of an address connect while someone there sprays bad tokens; the sprayer gets LOGIN_RATE_LIMITED', async () => {
    const relay = await startTestRelay({
      WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '5',
      WS_MAX_AUTH_FAILURES_PER_IP_PER_MINUTE: '10',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    try {
      const forged = mintToken('an-attacker-secret-0123456789abcdef', { user: 'mallory', sessions: ['s1'], role: 'host', ttl: '5m' });
      const statuses: Array<[number, unknown]> = [];
      for (let i = 0; i < 15; i++) {
        const refusal = await refusedUpgrade(`${relay.url}?token=${i % 3 === 0 ? 'garbage' : forged}`);
        statuses.push([refusal.status, refusal.body.code]);
      }
      assert.deepEqual(
        statuses.slice(0, 10).map(([status]) => status),
        Array(10).fill(401),
      );
      assert.deepEqual(statuses.slice(10), Array(5).fill([429, 'LOGIN_RATE_LIMITED']));

      // Everyone else at that address: all five valid connections of the minute still get in.
      for (let i = 0; i < 5; i++) await relay.connect(`colleague-${i}`);
      // The valid connections' own limit still holds.
      const sixth = await refusedUpgrade(`${relay.url}?token=${relay.token({ user: 'colleague-5' })}`);
      assert.equal(sixth.status, 429);
      assert.equal(sixth.body.code, 'CONNECTION_RATE_LIMITED');

      const stats = await fetchStats(relay);
      assert.equal(stats.errors.LOGIN_RATE_LIMITED, 5);
      assert.equal(stats.connections, 5);
    } finally {
      await relay.stop();
    }
  });
});
