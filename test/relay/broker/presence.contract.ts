import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Participant } from '../../../protocol';
import type { PresenceStore } from '../../../relay/broker/presence';

let sessionCounter = 0;
const freshSession = () => `presence-${process.pid}-${++sessionCounter}`;
const participant = (user: string, connection: string): Participant => ({
  user_id: user,
  display_name: user.toUpperCase(),
  role: 'editor',
  connection_id: connection,
});

/** The behaviour every PresenceStore must have, run against each implementation. */
export function presenceContract(name: string, create: () => Promise<PresenceStore>): void {
  describe(`PresenceStore contract: ${name}`, () => {
    const stores: PresenceStore[] = [];
    const make = async () => {
      const store = await create();
      stores.push(store);
      return store;
    };
    after(async () => {
      for (const store of stores) await store.close();
    });

    it('lists one entry per connection, a user with two connections twice', async () => {
      const store = await make();
      const session = freshSession();
      await store.add(session, participant('alice', 'c1'));
      await store.add(session, participant('alice', 'c2'));
      await store.add(session, participant('bob', 'c3'));
      const listed = await store.list(session);
      assert.deepEqual(listed.map((p) => p.connection_id).sort(), ['c1', 'c2', 'c3']);
      assert.deepEqual(
        listed.find((p) => p.connection_id === 'c3'),
        participant('bob', 'c3'),
      );
    });

    it('removes by connection and keeps sessions apart', async () => {
      const store = await make();
      const [one, two] = [freshSession(), freshSession()];
      await store.add(one, participant('alice', 'c1'));
      await store.add(two, participant('bob', 'c2'));
      await store.remove(one, 'c1');
      await store.remove(one, 'never-there');
      assert.deepEqual(await store.list(one), []);
      assert.deepEqual(
        (await store.list(two)).map((p) => p.user_id),
        ['bob'],
      );
    });
  });
}
