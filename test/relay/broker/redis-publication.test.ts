import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BrokerMessage } from '../../../relay/broker/broker';
import {
  decodePublication,
  decodeStreamEntry,
  encodeHeader,
  encodePublication,
  shardChannel,
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

  it('refuses a payload whose header is not JSON', () => {
    assert.throws(() => decodePublication('0\nnot json\n{}'));
  });

  it('names a channel with a lone surrogate by what Redis hands back (UTF-8 decoded)', () => {
    assert.equal(shardChannel('p:', 'session:abc'), 'p:{session:abc}');
    assert.equal(shardChannel('p:', 'doc:s\u0000\uD800x'), 'p:{doc:s\u0000\uFFFDx}');
    assert.equal(shardChannel('p:', 'doc:😀'), 'p:{doc:😀}');
  });
});
