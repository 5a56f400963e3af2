import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { defineScript, scriptNames, scriptSource } from '../../../relay/redis/scripts';
import { startRedisServer } from '../../support/redis-server';

const LUA_DIR = join(import.meta.dirname, '../../../relay/redis/lua');

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('the relay Lua scripts', () => {
  const server = startRedisServer();
  after(async () => (await server).dispose());

  it('loads every .lua file as text into some script', () => {
    const sources = scriptNames.map(scriptSource);
    const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));
    assert.ok(files.length >= scriptNames.length);
    for (const file of files) {
      const text = readFileSync(join(LUA_DIR, file), 'utf8');
      assert.ok(
        sources.some((source) => source.includes(text)),
        `${file} is in no script`,
      );
    }
  });

  it('compiles every script in Redis and defines it on the client', async () => {
    const redis = await RedisConnections.open((await server).url, { name: 'scripts', connectTimeoutMs: 5000 });
    try {
      for (const name of scriptNames) {
        const sha = (await redis.command.script('LOAD', scriptSource(name))) as string;
        assert.match(sha, /^[0-9a-f]{40}$/, name);
        defineScript(redis.command, name);
        assert.ok(name in redis.command, `${name} is a command of the client`);
      }
      // A script runs: the session that does not exist has no use to count.
      const useInvite = defineScript<number>(redis.command, 'tandemSessionUseInvite');
      assert.equal(await useInvite(['scripts-test:session:{none}'], ['invite', 1]), 0);
    } finally {
      await redis.close();
    }
  });
});
