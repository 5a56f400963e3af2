import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { within } from '../../support/wait';

// Needs /usr/bin/redis-server: the test's own, with `requirepass`.
const PASSWORD = 'redis-secret-77';

/** Far longer than any answer takes: a refusal must not wait for it to run out. */
const CONNECT_TIMEOUT_MS = 120_000;

/** `open`'s error; within 20 s, far less than the connect timeout. */
async function refusal(open: Promise<unknown>): Promise<Error> {
  const error = await within(open, 20_000, 'the refusal (not the connect timeout)').then(
    () => new Error('connected'),
    (error: unknown) => error as Error,
  );
  assert.doesNotMatch(error.message, /^connected$|timed out/);
  return error;
}

describe('Redis with a password (REDIS_URL): the relay connects with it, and is refused without it at once, in one line', () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedisServer({ config: [`requirepass ${PASSWORD}`] });
  });
  after(async () => {
    await server?.dispose();
  });
  const open = (url: string) =>
    RedisConnections.configured(
      { redisUrl: url, redisClusterNodes: undefined },
      { name: 'auth-check', connectTimeoutMs: CONNECT_TIMEOUT_MS },
    );

  it('connects with the password in the URL', async () => {
    const redis = (await open(`redis://:${PASSWORD}@127.0.0.1:${server.port}`))!;
    try {
      assert.equal(await redis.command.ping(), 'PONG');
    } finally {
      await redis.close();
    }
  });

  for (const [what, auth] of [
    ['without a password', ''],
    ['with a wrong one', ':wrong-password@'],
  ] as const) {
    it(`refuses to start ${what}, without waiting for the connect timeout, never showing a password`, async () => {
      const error = await refusal(open(`redis://${auth}127.0.0.1:${server.port}`));
      assert.match(error.message, /^REDIS_URL: Redis at redis:\/\/.*127\.0\.0\.1:\d+ refused the relay's credentials: (NOAUTH|WRONGPASS)/);
      assert.doesNotMatch(error.message, /wrong-password|redis-secret/);
    });
  }
});
