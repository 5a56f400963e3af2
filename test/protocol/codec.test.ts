import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ClientEventType,
  decodeClientFrame,
  decodeServerFrame,
  encodeClientFrame,
  encodeServerFrame,
  frameWithOffset,
  InboundEnvelope,
  type ServerEventType,
} from '../../protocol';
import { clientFrameExamples, payloadExamples } from './examples';

/** The valid payload examples of one direction, by event type. */
function validExamples(direction: 'client' | 'server'): Array<[eventType: string, payload: unknown]> {
  return Object.entries(payloadExamples)
    .filter(([key]) => key.endsWith(`.${direction}`))
    .flatMap(([key, { valid }]) => valid.map((payload): [string, unknown] => [key.slice(0, -direction.length - 1), payload]));
}

describe('client frames', () => {
  it('accepts the README examples (JavaScript and Python) and other valid frames', () => {
    for (const frame of clientFrameExamples.valid) {
      const decoded = decodeClientFrame(JSON.stringify(frame));
      assert.ok(decoded.ok, `should accept ${JSON.stringify(frame)}: ${decoded.ok ? '' : decoded.error.message}`);
    }
  });

  it('refuses malformed envelopes with VALIDATION_FAILED and the field path', () => {
    for (const frame of clientFrameExamples.invalid) {
      const decoded = decodeClientFrame(JSON.stringify(frame));
      assert.ok(!decoded.ok, `should refuse ${JSON.stringify(frame)}`);
      assert.equal(decoded.error.code, 'VALIDATION_FAILED');
      assert.ok(decoded.error.path, 'names the field');
    }
  });

  it('names the offending payload field', () => {
    const decoded = decodeClientFrame(
      JSON.stringify({ event_type: 'collaboration.edit', payload: { document: 'a', rev: 0, client_id: 'c', seq: 0, op: [3, 0] } }),
    );
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.path, 'payload.op[1]');
    assert.equal(decoded.eventType, 'collaboration.edit');
  });

  it('refuses invalid JSON, unknown events and server-only events with their own codes', () => {
    const cases: Array<[string, string]> = [
      ['{"event_type":', 'BAD_JSON'],
      ['', 'BAD_JSON'],
      [JSON.stringify({ event_type: 'chat.shout', payload: {} }), 'UNKNOWN_EVENT'],
      [JSON.stringify({ event_type: 'toString', payload: {} }), 'UNKNOWN_EVENT'],
      [JSON.stringify({ event_type: '__proto__', payload: {} }), 'UNKNOWN_EVENT'],
      [JSON.stringify({ event_type: 'connect', payload: {} }), 'WRONG_DIRECTION'],
      [JSON.stringify({ event_type: 'ai.response', payload: {} }), 'WRONG_DIRECTION'],
      ['null', 'VALIDATION_FAILED'],
      ['[]', 'VALIDATION_FAILED'],
      ['"chat.message"', 'VALIDATION_FAILED'],
    ];
    for (const [text, code] of cases) {
      const decoded = decodeClientFrame(text);
      assert.ok(!decoded.ok, `should refuse ${text}`);
      assert.equal(decoded.error.code, code, text);
    }
  });

  it('refuses __proto__ keys instead of letting them through', () => {
    const text = '{"event_type":"chat.message","payload":{"content":"x","__proto__":{"polluted":true}}}';
    const decoded = decodeClientFrame(text);
    assert.ok(!decoded.ok);
    assert.equal(decoded.error.code, 'VALIDATION_FAILED');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const top = decodeClientFrame('{"event_type":"chat.message","payload":{"content":"x"},"__proto__":{"polluted":true}}');
    assert.ok(!top.ok);
  });

  it('keeps the envelope schema strict', () => {
    assert.ok(!InboundEnvelope.safeParse({ event_type: 'chat.message', payload: {}, evil: 1 }).success);
  });
});

describe('server frames', () => {
  it('decodes a relay frame and refuses client-only events', () => {
    const frame = {
      event_type: 'system.pong',
      payload: { server_time: new Date().toISOString() },
      timestamp: new Date().toISOString(),
      user_id: 'system',
    };
    assert.ok(decodeServerFrame(JSON.stringify(frame)).ok);
    const wrong = decodeServerFrame(JSON.stringify({ ...frame, event_type: 'system.ping', payload: {} }));
    assert.ok(!wrong.ok);
    assert.equal(wrong.error.code, 'WRONG_DIRECTION');
    const noUser = decodeServerFrame(JSON.stringify({ ...frame, user_id: undefined }));
    assert.ok(!noUser.ok);
  });
});

describe('encoding', () => {
  it('encodes every valid client payload into a frame that decodes back to it', () => {
    const examples = validExamples('client');
    assert.ok(examples.length > 10);
    for (const [eventType, payload] of examples) {
      const text = encodeClientFrame(eventType as ClientEventType, payload as never);
      const decoded = decodeClientFrame(text);
      assert.ok(decoded.ok, `${text}: ${decoded.ok ? '' : decoded.error.message}`);
      assert.equal(decoded.frame.event_type, eventType);
      assert.deepEqual(decoded.frame.payload, payload);
      assert.ok(!Number.isNaN(Date.parse(decoded.frame.timestamp ?? '')), 'a timestamp');
    }
  });

  it('encodes every valid server payload into a frame that decodes back to it, with its sender', () => {
    const examples = validExamples('server');
    assert.ok(examples.length > 10);
    for (const [eventType, payload] of examples) {
      const text = encodeServerFrame(eventType as ServerEventType, payload as never, { userId: 'alice', sessionId: 's1' });
      const decoded = decodeServerFrame(text);
      assert.ok(decoded.ok, `${text}: ${decoded.ok ? '' : decoded.error.message}`);
      const { timestamp, ...rest } = decoded.frame;
      assert.deepEqual(rest, { event_type: eventType, payload, session_id: 's1', user_id: 'alice' });
      assert.ok(!Number.isNaN(Date.parse(timestamp)), 'a timestamp');
    }
  });

  it('leaves session_id out of a server frame without a session', () => {
    const text = encodeServerFrame('system.pong', { server_time: new Date().toISOString() }, { userId: 'system' });
    const decoded = decodeServerFrame(text);
    assert.ok(decoded.ok);
    assert.ok(!('session_id' in decoded.frame));
    assert.equal(decoded.frame.user_id, 'system');
  });

  it('splices a log offset into an encoded server frame as its last field', () => {
    const frame = encodeServerFrame(
      'chat.message',
      { content: 'hi\n}', message_id: 'm1', display_name: 'Alice' },
      { userId: 'alice', sessionId: 's1' },
    );
    const text = frameWithOffset(frame, 42);
    assert.deepEqual(JSON.parse(text), { ...JSON.parse(frame), offset: 42 });
    assert.ok(text.endsWith(',"offset":42}'));
    const decoded = decodeServerFrame(text);
    assert.ok(decoded.ok);
    assert.equal(decoded.frame.offset, 42);
    assert.equal(frameWithOffset('not an object', 42), 'not an object');
  });
});
