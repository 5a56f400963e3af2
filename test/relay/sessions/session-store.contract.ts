import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { SessionRecord, SessionStore } from '../../../relay/sessions/session-store';

let counter = 0;
const record = (extra: Partial<SessionRecord> = {}): SessionRecord => ({
  id: `ses-${process.pid}-contract-${++counter}`,
  ownerId: 'alice',
  ownerName: 'Alice',
  createdAt: Date.now(),
  expiresAt: Date.now() + 3_600_000,
  ...extra,
});

/**
 * The behaviour every SessionStore must have, run against each implementation. `create` makes a
 * store; with `shared`, two stores made in one run share their records (two relays on one Redis).
 */
export function sessionStoreContract(name: string, create: () => Promise<SessionStore>, { shared }: { shared: boolean }): void {
  describe(`SessionStore contract: ${name}`, () => {
    const stores: SessionStore[] = [];
    const make = async () => {
      const store = await create();
      stores.push(store);
      return store;
    };
    /** Two views of one state: two relays on one Redis, or one store twice in memory. */
    const pair = async (): Promise<[SessionStore, SessionStore]> => {
      const a = await make();
      return [a, shared ? await make() : a];
    };
    after(async () => {
      for (const store of stores) await store.close();
    });

    it('keeps a record; ends it once; an unknown id is undefined', async () => {
      const [a, b] = await pair();
      const session = record({ name: 'pairing' });
      await a.create(session);
      assert.deepEqual(await b.get(session.id), session);
      assert.deepEqual(await b.end(session.id, 1000), { ...session, endedAt: 1000 });
      assert.deepEqual(await a.end(session.id, 2000), { ...session, endedAt: 1000 });
      assert.equal(await a.get('ses-unknown'), undefined);
    });

    it('records a guest’s changed role, which any relay reads, and back', async () => {
      const [a, b] = await pair();
      const session = record();
      await a.create(session);
      assert.equal(await b.standing(session.id, 'guest-1'), undefined);
      assert.equal(await a.setStanding(session.id, 'guest-1', 'viewer'), true);
      assert.equal(await b.standing(session.id, 'guest-1'), 'viewer');
      assert.equal(await b.setStanding(session.id, 'guest-1', 'editor'), true);
      assert.equal(await a.standing(session.id, 'guest-1'), 'editor');
      // Others are not touched, nor is the record.
      assert.equal(await a.standing(session.id, 'guest-2'), undefined);
      assert.deepEqual(await a.get(session.id), session);
    });

    it('makes a removal final: no later role brings the guest back', async () => {
      const [a, b] = await pair();
      const session = record();
      await a.create(session);
      assert.equal(await a.setStanding(session.id, 'guest-1', 'viewer'), true);
      assert.equal(await a.setStanding(session.id, 'guest-1', 'removed'), true);
      assert.equal(await b.standing(session.id, 'guest-1'), 'removed');
      assert.equal(await b.setStanding(session.id, 'guest-1', 'editor'), false);
      assert.equal(await b.setStanding(session.id, 'guest-1', 'removed'), false);
      assert.equal(await a.standing(session.id, 'guest-1'), 'removed');
    });

    it('renews invites: each renewal a new generation, seen by any relay and kept in the record', async () => {
      const [a, b] = await pair();
      const session = record();
      await a.create(session);
      assert.equal((await b.get(session.id))?.inviteGeneration, undefined, 'never renewed');
      assert.equal(await a.renewInvites(session.id), 1);
      assert.equal(await b.renewInvites(session.id), 2);
      assert.deepEqual(await a.get(session.id), { ...session, inviteGeneration: 2 });
      assert.deepEqual(await b.end(session.id, 1000), { ...session, inviteGeneration: 2, endedAt: 1000 });
      assert.equal(await a.renewInvites('ses-unknown'), undefined);
      assert.equal(await a.get('ses-unknown'), undefined, 'a renewal makes no record');
    });

    it('records nothing for a session it does not have', async () => {
      const store = await make();
      assert.equal(await store.setStanding('ses-unknown', 'guest-1', 'removed'), false);
      assert.equal(await store.standing('ses-unknown', 'guest-1'), undefined);
    });

    it('keeps standings apart from invite uses', async () => {
      const [a, b] = await pair();
      const session = record();
      await a.create(session);
      await a.setStanding(session.id, 'inv-1', 'removed');
      assert.equal(await b.useInvite(session.id, 'inv-1', 1), true);
      assert.equal(await b.useInvite(session.id, 'inv-1', 1), false);
      assert.equal(await a.standing(session.id, 'inv-1'), 'removed');
    });
  });
}
