import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MemoryBroker } from '../../../relay/broker/memory-broker';
import { brokerContract } from './broker.contract';

brokerContract('memory', async (historySize) => new MemoryBroker(historySize));

it('memory broker: an idempotency key lasts as long as its publication is in history', async () => {
  const broker = new MemoryBroker(3);
  const message = (n: number) => ({ eventType: 'chat.message', data: `{"n":${n}}` });
  await broker.publish('c', message(1), { history: true, idempotencyKey: 'k' });
  assert.ok((await broker.publish('c', message(1), { history: true, idempotencyKey: 'k' })).duplicate);
  for (let n = 2; n <= 4; n++) await broker.publish('c', message(n), { history: true });
  const after = await broker.publish('c', message(1), { history: true, idempotencyKey: 'k' });
  assert.equal(after.duplicate, undefined, 'trimmed from history, so forgotten');
  assert.equal(after.offset, 5);
  await broker.close();
});
