import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerMessage } from '../../../relay/broker/broker';
import {
  decodePublication,
  decodePublications,
  decodeStreamEntry,
  encodeHeader,
  encodePublication,
  encodePublications,
  recordOf,
  shardChannel,
  withRecord,
} from '../../../relay/broker/redis-publication';

const messages: BrokerMessage[] = [
  { eventType: 'chat.message', data: '{"event_type":"chat.message","payload":{"content":"hi"}}' },
  {
    eventType: 'collaboration.edit',
    data: '{"n":1}',
    exclude: 'relay-1.7',
    users: ['alice', 'bób'],
    connection: 'relay-2.3',
    echo: { eventType: 'collaboration.ack', data: '{"ack":true}' },
  },
  // Data is carried as is, whatever it holds (the relay's frames hold no raw newline, but nothing depends on it).
  { eventType: 'x', data: 'two\nlines\n' },
  { eventType: 'x', data: '' },
];

describe('the Redis broker publication format', () => {
  it('decodes what encodePublication publishes (offset 0: kept out of history)', () => {
    for (const message of messages) {
      const [channel, payload] = encodePublication('tandem:', 'doc:s1\u0000a.ts', message);
      assert.equal(channel, 'tandem:{doc:s1\u0000a.ts}');
      assert.ok(payload.startsWith('0\n'));
      assert.deepEqual(decodePublication(payload), { ...message, offset: 0 });
    }
  });

  it('decodes the payload the publish script puts together: offset, header and data', () => {
    for (const message of messages) {
      const { header, data } = encodeHeader(message);
      assert.equal(data, message.data);
      assert.ok(!header.includes('\n'));
      assert.deepEqual(decodePublication(`17\n${header}\n${data}`), { ...message, offset: 17 });
    }
  });

  it('decodes a history stream entry, its fields in any order', () => {
    for (const message of messages) {
      const { header, data } = encodeHeader(message);
      assert.deepEqual(decodeStreamEntry('42-0', ['h', header, 'd', data]), { ...message, offset: 42 });
      assert.deepEqual(decodeStreamEntry('42-0', ['d', data, 'h', header]), { ...message, offset: 42 });
    }
  });

  it('decodes a batch of messages published at once (a group commit), in order, whatever their data holds', () => {
    const [channel, payload] = encodePublications('tandem:', 'doc:s1\u0000a.ts', messages);
    assert.equal(channel, 'tandem:{doc:s1\u0000a.ts}');
    assert.deepEqual(
      decodePublications(payload),
      messages.map((m) => ({ ...m, offset: 0 })),
    );
    // One message is the single format, which every reader knows.
    const [, single] = encodePublications('tandem:', 'c', [messages[1]!]);
    assert.equal(single, encodePublication('tandem:', 'c', messages[1]!)[1]);
    assert.deepEqual(decodePublications(single), [{ ...messages[1]!, offset: 0 }]);
    // A lone surrogate comes back from Redis as U+FFFD: one code unit for one, the lengths still hold.
    const [, lone] = encodePublications('p:', 'c', [
      { eventType: 'x', data: 'a\uD800b' },
      { eventType: 'y', data: 'c' },
    ]);
    assert.deepEqual(
      decodePublications(Buffer.from(lone).toString()).map((p) => p.data),
      ['a\uFFFDb', 'c'],
    );
  });

  it('skips a record a payload opens with, which recordOf reads', () => {
    for (const list of [[messages[0]!], messages]) {
      const [, payload] = encodePublications('p:', 'c', list);
      const record = '["e",3,-1,[["x"],"u","c\\n",0]]\n#*';
      const opened = withRecord(record, payload);
      assert.equal(recordOf(opened), record);
      assert.equal(recordOf(payload), undefined);
      assert.deepEqual(
        decodePublications(opened),
        list.map((m) => ({ ...m, offset: 0 })),
      );
    }
  });

  it('refuses a batch cut short or longer than its count', () => {
    const [, payload] = encodePublications('p:', 'c', messages);
    assert.throws(() => decodePublications(payload.slice(0, -3)));
    assert.throws(() => decodePublications(`${payload}x`));
    assert.throws(() => decodePublications(payload.replace('*4', '*5')));
  });

  it('refuses a payload whose header is not JSON', () => {
    assert.throws(() => decodePublication('0\nnot json\n{}'));
  });

  it('names a channel with a lone surrogate by what Redis hands back (UTF-8 decoded)', () => {
    assert.equal(shardChannel('p:', 'session:abc'), 'p:{session:abc}');
    assert.equal(shardChannel('p:', 'doc:s\u0000\uD800x'), 'p:{doc:s\u0000\uFFFDx}');
    assert.equal(shardChannel('p:', 'doc:😀'), 'p:{doc:😀}');
  });
});
