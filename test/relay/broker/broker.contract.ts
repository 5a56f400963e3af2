import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Broker, Publication } from '../../../relay/broker/broker';
import { waitUntil } from '../../support/wait';

let channelCounter = 0;
/** A fresh channel per test, so implementations sharing a backend never see each other's data. */
const freshChannel = () => `contract-${process.pid}-${++channelCounter}`;
const message = (n: number) => ({ eventType: 'chat.message', data: `{"n":${n}}` });

/**
 * The behaviour every Broker must have, written once and run against each implementation
 * (ShareDB's pubsub/db test suites are the model). `create(historySize)` makes a broker.
 */
export function brokerContract(name: string, create: (historySize: number) => Promise<Broker>): void {
  describe(`Broker contract: ${name}`, () => {
    const brokers: Broker[] = [];
    const make = async (historySize = 100) => {
      const broker = await create(historySize);
      brokers.push(broker);
      return broker;
    };
    after(async () => {
      for (const broker of brokers) await broker.close();
    });

    it('delivers every publication to every subscriber of the channel, in order', async () => {
      const broker = await make();
      const channel = freshChannel();
      const a: Publication[] = [];
      const b: Publication[] = [];
      await broker.subscribe(channel, (p) => a.push(p));
      await broker.subscribe(channel, (p) => b.push(p));
      for (let n = 0; n < 50; n++) await broker.publish(channel, message(n));
      await waitUntil(() => a.length === 50 && b.length === 50, 'all 50 publications at both subscribers');
      assert.deepEqual(
        a.map((p) => p.data),
        Array.from({ length: 50 }, (_, n) => `{"n":${n}}`),
      );
      assert.deepEqual(
        b.map((p) => p.data),
        a.map((p) => p.data),
      );
    });

    it('keeps channels apart', async () => {
      const broker = await make();
      const [one, two] = [freshChannel(), freshChannel()];
      const got: string[] = [];
      await broker.subscribe(one, (p) => got.push(p.data));
      await broker.publish(two, message(1));
      await broker.publish(one, message(2));
      await waitUntil(() => got.length === 1, 'the publication');
      assert.deepEqual(got, ['{"n":2}']);
    });

    it('carries the routing metadata (event type, excluded connection, users) untouched', async () => {
      const broker = await make();
      const channel = freshChannel();
      const got: Publication[] = [];
      await broker.subscribe(channel, (p) => got.push(p));
      await broker.publish(channel, { eventType: 'chat.message', data: '{}', exclude: 'relay-1.7', users: ['bob', 'alice'] });
      await broker.publish(channel, {
        eventType: 'collaboration.edit',
        data: '{"e":1}',
        exclude: 'relay-1.8',
        echo: { eventType: 'collaboration.ack', data: '{"a":1}' },
      });
      await waitUntil(() => got.length === 2, 'the publications');
      assert.equal(got[0]!.eventType, 'chat.message');
      assert.equal(got[0]!.exclude, 'relay-1.7');
      assert.deepEqual(got[0]!.users, ['bob', 'alice']);
      assert.equal(got[0]!.echo, undefined);
      assert.deepEqual(got[1]!.echo, { eventType: 'collaboration.ack', data: '{"a":1}' });
      assert.equal(got[1]!.users, undefined);
    });

    it('carries a target connection untouched, in history too, and leaves it absent when not set', async () => {
      const broker = await make();
      const channel = freshChannel();
      const got: Publication[] = [];
      await broker.subscribe(channel, (p) => got.push(p));
      const first = await broker.publish(
        channel,
        { eventType: 'workspace.response', data: '{"r":1}', connection: 'relay-2.c9' },
        { history: true },
      );
      await broker.publish(channel, { eventType: 'workspace.changed', data: '{"r":2}', exclude: 'relay-2.c1' }, { history: true });
      await waitUntil(() => got.length === 2, 'the publications');
      assert.equal(got[0]!.connection, 'relay-2.c9');
      assert.equal(got[0]!.exclude, undefined);
      assert.equal(got[1]!.connection, undefined);
      const { publications } = await broker.history(channel, { offset: first.offset - 1, epoch: first.epoch }, 10);
      assert.deepEqual(
        publications.map((p) => p.connection),
        ['relay-2.c9', undefined],
      );
    });

    it('stops delivering after the subscription is disposed', async () => {
      const broker = await make();
      const channel = freshChannel();
      const got: string[] = [];
      const marker: string[] = [];
      const subscription = await broker.subscribe(channel, (p) => got.push(p.data));
      await broker.subscribe(channel, (p) => marker.push(p.data));
      subscription.dispose();
      await broker.publish(channel, message(1));
      await waitUntil(() => marker.length === 1, 'the publication to the remaining subscriber');
      assert.deepEqual(got, []);
    });

    it('delivers publications kept nowhere in order with kept ones, at offset 0, and keeps none of them', async () => {
      const broker = await make();
      const channel = freshChannel();
      const got: Publication[] = [];
      await broker.subscribe(channel, (p) => got.push(p));
      // Not awaited one by one: sent back to back, as a cursor right behind an edit.
      const results = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((n) => broker.publish(channel, message(n), n % 2 === 0 ? { history: true } : undefined)),
      );
      assert.deepEqual(
        results.map((r) => r.offset),
        [0, 1, 0, 2, 0, 3],
      );
      assert.deepEqual(
        results.map((r) => r.epoch === ''),
        [true, false, true, false, true, false],
      );
      await waitUntil(() => got.length === 6, 'the publications');
      assert.deepEqual(
        got.map((p) => [p.data, p.offset]),
        [1, 2, 3, 4, 5, 6].map((n) => [`{"n":${n}}`, n % 2 === 0 ? n / 2 : 0]),
      );
      const { publications } = await broker.history(channel, { offset: 0, epoch: results[1]!.epoch }, 100);
      assert.deepEqual(
        publications.map((p) => p.data),
        ['{"n":2}', '{"n":4}', '{"n":6}'],
      );
    });

    it('numbers history publications 1, 2, 3... in one epoch and replays what came after a position', async () => {
      const broker = await make();
      const channel = freshChannel();
      const positions = [];
      for (let n = 1; n <= 5; n++) positions.push(await broker.publish(channel, message(n), { history: true }));
      assert.deepEqual(
        positions.map((p) => p.offset),
        [1, 2, 3, 4, 5],
      );
      assert.equal(new Set(positions.map((p) => p.epoch)).size, 1);
      const { publications, position, recovered } = await broker.history(channel, positions[1]!, 100);
      assert.equal(recovered, true);
      assert.deepEqual(
        publications.map((p) => p.offset),
        [3, 4, 5],
      );
      assert.deepEqual(
        publications.map((p) => p.data),
        ['{"n":3}', '{"n":4}', '{"n":5}'],
      );
      assert.deepEqual(position, positions[4]);
    });

    it('does not keep publications made without history', async () => {
      const broker = await make();
      const channel = freshChannel();
      const first = await broker.publish(channel, message(1), { history: true });
      await broker.publish(channel, message(2));
      const { publications } = await broker.history(channel, { offset: 0, epoch: first.epoch }, 100);
      assert.deepEqual(
        publications.map((p) => p.data),
        ['{"n":1}'],
      );
    });

    it('says history cannot be recovered when the position is older than what is kept, or from another epoch', async () => {
      const broker = await make(3);
      const channel = freshChannel();
      let last = await broker.publish(channel, message(1), { history: true });
      for (let n = 2; n <= 10; n++) last = await broker.publish(channel, message(n), { history: true });
      const tooOld = await broker.history(channel, { offset: 2, epoch: last.epoch }, 100);
      assert.equal(tooOld.recovered, false);
      assert.deepEqual(tooOld.position, last);
      const recent = await broker.history(channel, { offset: 7, epoch: last.epoch }, 100);
      assert.equal(recent.recovered, true);
      assert.deepEqual(
        recent.publications.map((p) => p.offset),
        [8, 9, 10],
      );
      const otherEpoch = await broker.history(channel, { offset: 9, epoch: 'not-this-one' }, 100);
      assert.equal(otherEpoch.recovered, false);
    });

    it('gives a position on a channel without history yet that resumes from its first publication, `limit` at a time', async () => {
      const broker = await make();
      const channel = freshChannel();
      const { position, publications } = await broker.history(channel, { offset: 0, epoch: 'unknown' }, 10);
      assert.deepEqual(publications, []);
      assert.equal(position.offset, 0);
      for (let n = 1; n <= 3; n++) await broker.publish(channel, message(n), { history: true });
      const page = await broker.history(channel, position, 2);
      assert.equal(page.recovered, true);
      assert.deepEqual(
        page.publications.map((p) => p.offset),
        [1, 2],
      );
      assert.deepEqual(page.position, { offset: 3, epoch: position.epoch });
    });

    it('publishes under an idempotency key once: a repeat is neither kept nor delivered, and returns the original', async () => {
      const broker = await make();
      const channel = freshChannel();
      const got: Publication[] = [];
      await broker.subscribe(channel, (p) => got.push(p));
      const first = await broker.publish(
        channel,
        { eventType: 'chat.message', data: '{"n":1}', users: ['ann'] },
        { history: true, idempotencyKey: 'k1' },
      );
      await broker.publish(channel, message(2), { history: true, idempotencyKey: 'k2' });
      const again = await broker.publish(
        channel,
        { eventType: 'chat.message', data: '{"n":"1 again"}' },
        { history: true, idempotencyKey: 'k1' },
      );
      assert.equal(first.duplicate, undefined);
      assert.equal(again.offset, first.offset);
      assert.equal(again.epoch, first.epoch);
      assert.equal(again.duplicate?.original?.data, '{"n":1}');
      assert.equal(again.duplicate?.original?.offset, first.offset);
      assert.deepEqual(again.duplicate?.original?.users, ['ann']);
      await broker.publish(channel, message(3), { history: true });
      await waitUntil(() => got.length === 3, 'three publications');
      assert.deepEqual(
        got.map((p) => p.data),
        ['{"n":1}', '{"n":2}', '{"n":3}'],
      );
      const { publications } = await broker.history(channel, { offset: 0, epoch: first.epoch }, 100);
      assert.deepEqual(
        publications.map((p) => p.offset),
        [1, 2, 3],
      );
    });

    it('dedupes by idempotency key for as long as the original is in the history window, then publishes anew', async () => {
      const broker = await make(3);
      const channel = freshChannel();
      const first = await broker.publish(channel, message(1), { history: true, idempotencyKey: 'k' });
      await broker.publish(channel, message(2), { history: true });
      await broker.publish(channel, message(3), { history: true });
      const inWindow = await broker.publish(channel, { ...message(1), data: '"1 again"' }, { history: true, idempotencyKey: 'k' });
      assert.equal(inWindow.offset, first.offset);
      assert.equal(inWindow.duplicate?.original?.data, message(1).data);
      await broker.publish(channel, message(4), { history: true });
      const afterWindow = await broker.publish(channel, { ...message(1), data: '"1 later"' }, { history: true, idempotencyKey: 'k' });
      assert.equal(afterWindow.duplicate, undefined, 'its original left the window: a new publication');
      assert.equal(afterWindow.offset, 5);
      const again = await broker.publish(channel, { ...message(1), data: '"1 later again"' }, { history: true, idempotencyKey: 'k' });
      assert.equal(again.offset, 5, 'and that one dedupes in turn');
    });

    it('keeps idempotency keys per channel', async () => {
      const broker = await make();
      const [one, two] = [freshChannel(), freshChannel()];
      await broker.publish(one, message(1), { history: true, idempotencyKey: 'same' });
      const other = await broker.publish(two, message(1), { history: true, idempotencyKey: 'same' });
      assert.equal(other.duplicate, undefined);
      assert.equal(other.offset, 1);
    });

    it('reports its health', async () => {
      const broker = await make();
      const health = await broker.health();
      assert.equal(health.status, 'up');
    });
  });
}
