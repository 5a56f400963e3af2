import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RedisConnections } from '../../../relay/redis/redis-connection';
import type { SessionRecord } from '../../../relay/sessions/session-store';
import { RedisSessionStore } from '../../../relay/sessions/redis-session-store';
import { startRedisServer } from '../../support/redis-server';
import { waitUntil } from '../../support/wait';
import { sessionStoreContract } from './session-store.contract';

// Needs /usr/bin/redis-server: the test's own, on a free port.
describe('RedisSessionStore', () => {
  const server = startRedisServer();
  const stores: RedisSessionStore[] = [];
  let counter = 0;
  const storeOn = async () => {
    const store = new RedisSessionStore(
      await RedisConnections.open((await server).url, { name: `relay-${++counter}`, connectTimeoutMs: 5000 }),
    );
    stores.push(store);
    return store;
  };
  const record = (extra: Partial<SessionRecord> = {}): SessionRecord => ({
    id: `ses-${process.pid}-${++counter}`,
    ownerId: 'alice',
    ownerName: 'Alice 👩‍💻',
    createdAt: Date.now(),
    expiresAt: Date.now() + 3_600_000,
    ...extra,
  });
  after(async () => {
    for (const store of stores) await store.close();
    await (await server).dispose();
  });

  it('keeps a record whole for every relay, name or not; an unknown id is undefined', async () => {
    const [a, b] = [await storeOn(), await storeOn()];
    const named = record({ name: 'pairing: {tag} \u0000 ü' });
    const unnamed = record();
    await a.create(named);
    await a.create(unnamed);
    assert.deepEqual(await b.get(named.id), named);
    assert.deepEqual(await b.get(unnamed.id), unnamed);
    assert.equal(await b.get('ses-unknown'), undefined);
    assert.equal(await b.end('ses-unknown', Date.now()), undefined);
  });

  it('ends a session once: the first end’s time stays, whichever relay asks', async () => {
    const [a, b] = [await storeOn(), await storeOn()];
    const session = record();
    await a.create(session);
    assert.deepEqual(await b.end(session.id, 1000), { ...session, endedAt: 1000 });
    assert.deepEqual(await a.end(session.id, 2000), { ...session, endedAt: 1000 });
    assert.deepEqual(await a.get(session.id), { ...session, endedAt: 1000 });
  });

  it('forgets a record when the session expires', async () => {
    const store = await storeOn();
    const session = record({ expiresAt: Date.now() + 300 });
    await store.create(session);
    assert.deepEqual(await store.get(session.id), session);
    await waitUntil(async () => (await store.get(session.id)) === undefined, 'the record to expire', 5000, 50);
  });
});

// The same Redis for the contract: each store is a relay of its own; session ids never repeat.
describe('RedisSessionStore (contract)', () => {
  const server = startRedisServer();
  let relays = 0;
  after(async () => (await server).dispose());
  sessionStoreContract(
    'redis',
    async () =>
      new RedisSessionStore(await RedisConnections.open((await server).url, { name: `contract-${++relays}`, connectTimeoutMs: 5000 })),
    { shared: true },
  );
});
