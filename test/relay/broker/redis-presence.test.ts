import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { Participant } from '../../../protocol';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import { RedisPresenceStore, type RedisPresenceOptions } from '../../../relay/broker/redis-presence';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { waitUntil, within } from '../../support/wait';
import { presenceContract } from './presence.contract';

// Needs /usr/bin/redis-server: every server here is the test's own, on a free port.
const servers: RedisServer[] = [];
const stores: RedisPresenceStore[] = [];
const shared = startRedisServer();

async function ownServer(): Promise<RedisServer> {
  const server = await startRedisServer();
  servers.push(server);
  return server;
}

let relayCounter = 0;
async function storeOn(url: string, options: RedisPresenceOptions = {}): Promise<RedisPresenceStore> {
  const relayId = `relay-${++relayCounter}`;
  const redis = await RedisConnections.open(url, { name: relayId, connectTimeoutMs: 5000, maxReconnectDelayMs: 500 });
  const store = new RedisPresenceStore(redis, relayId, options);
  stores.push(store);
  return store;
}

const participant = (user: string, connection: string): Participant => ({
  user_id: user,
  display_name: user,
  role: 'editor',
  connection_id: connection,
});
const connectionsOf = async (store: RedisPresenceStore, session: string) => (await store.list(session)).map((p) => p.connection_id).sort();

after(async () => {
  for (const store of stores) await store.close();
  for (const server of [...servers, await shared]) await server.dispose();
});

presenceContract('redis', async () => storeOn((await shared).url));

describe('RedisPresenceStore', () => {
  afterEach(async (t) => {
    for (const server of [...servers, await shared]) server.printLogIfFailed(t);
  });

  it('relays see each other’s participants; a relay that closes takes its own with it', async () => {
    const url = (await shared).url;
    const [one, two] = [await storeOn(url), await storeOn(url)];
    await one.add('together', participant('alice', 'relay-1.1'));
    await two.add('together', participant('bob', 'relay-2.1'));
    assert.deepEqual(await connectionsOf(one, 'together'), ['relay-1.1', 'relay-2.1']);
    await two.close();
    assert.deepEqual(await connectionsOf(one, 'together'), ['relay-1.1']);
  });

  it('the participants of a crashed relay expire; those of live relays stay', async () => {
    const server = await ownServer();
    const live = await storeOn(server.url, { ttlMs: 3000, heartbeatMs: 200 });
    await live.add('crash', participant('alice', 'live.1'));
    const crashing = await startPresenceProcess(server.url, 'crash', ['doomed.1', 'doomed.2']);
    try {
      assert.deepEqual(await connectionsOf(live, 'crash'), ['doomed.1', 'doomed.2', 'live.1']);
      crashing.kill('SIGKILL');
      await once(crashing, 'exit');
      await waitUntil(
        async () => (await connectionsOf(live, 'crash')).length === 1,
        'the crashed relay’s participants to expire',
        15_000,
        100,
      );
      assert.deepEqual(await connectionsOf(live, 'crash'), ['live.1']);
    } finally {
      crashing.kill('SIGKILL');
    }
  });

  it('after Redis lost its data, each relay announces its participants again', async () => {
    const server = await ownServer();
    const store = await storeOn(server.url, { ttlMs: 2000, heartbeatMs: 100 });
    await store.add('lost', participant('alice', 'c1'));
    await store.add('lost', participant('bob', 'c2'));
    await store.add('elsewhere', participant('carol', 'c3'));
    await store.remove('lost', 'c2');
    await server.restart();
    await waitUntil(
      async () =>
        (await connectionsOf(store, 'lost').catch(() => [])).length === 1 && (await connectionsOf(store, 'elsewhere')).length === 1,
      'the participants to be announced again',
      15_000,
      100,
    );
    assert.deepEqual(await connectionsOf(store, 'lost'), ['c1']);
  });

  it('fails fast while Redis is down instead of queueing', async () => {
    const server = await ownServer();
    const store = await storeOn(server.url);
    await server.stop();
    await assert.rejects(within(store.add('down', participant('alice', 'c1')), 3000, 'add while Redis is down'));
    await assert.rejects(within(store.list('down'), 3000, 'list while Redis is down'));
    await within(store.close(), 5000, 'close while Redis is down');
  });
});

/** A relay's presence store in a process of its own, so that it can really crash (SIGKILL). */
async function startPresenceProcess(url: string, session: string, connections: string[]) {
  const relay = join(import.meta.dirname, '../../../relay');
  // tsx, and the Lua scripts as text (relay/redis/scripts.ts), as scripts/test.mjs runs the tests.
  const loader = ['--import', 'tsx', '--import', pathToFileURL(join(import.meta.dirname, '../../../scripts/lua-loader.mjs')).href];
  const script = `
    // The repository's .ts files load as CommonJS: their exports arrive under \`default\`.
    const load = async (file) => { const m = await import(file); return m.default ?? m; };
    const { RedisConnections } = await load(${JSON.stringify(join(relay, 'redis', 'redis-connection.ts'))});
    const { RedisPresenceStore } = await load(${JSON.stringify(join(relay, 'broker', 'redis-presence.ts'))});
    const redis = await RedisConnections.open(${JSON.stringify(url)}, { name: 'doomed' });
    const store = new RedisPresenceStore(redis, 'doomed', { ttlMs: 1000, heartbeatMs: 200 });
    for (const id of ${JSON.stringify(connections)}) {
      await store.add(${JSON.stringify(session)}, { user_id: id, display_name: id, role: 'viewer', connection_id: id });
    }
    console.log('ready');
    setInterval(() => undefined, 60_000);
  `;
  const child = spawn(process.execPath, [...loader, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await within(
    new Promise<void>((resolve, reject) => {
      child.stdout.on('data', () => output.includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`presence process exited (${code}): ${output}`)));
    }),
    20_000,
    'the presence process',
  );
  return child;
}
