import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeClientFrame, decodeServerFrame, events, InboundEnvelope } from '../../protocol';
import { clientFrameExamples, payloadExamples } from './examples';

function schemaFor(key: string) {
  const direction = key.endsWith('.client') ? 'client' : 'server';
  const name = key.slice(0, -direction.length - 1) as keyof typeof events;
  const spec = events[name] as Record<string, unknown>;
  const schema = spec[direction] as { safeParse(v: unknown): { success: boolean } } | undefined;
  assert.ok(schema, `no ${direction} schema for ${name}`);
  return schema;
}

describe('event payload schemas', () => {
  it('has examples for every event and direction in the catalog', () => {
    const expected = Object.entries(events).flatMap(([name, spec]) =>
      (['client', 'server'] as const).filter((d) => d in spec).map((d) => `${name}.${d}`),
    );
    for (const key of expected) {
      if (key === 'collaboration.edit.server' || key === 'collaboration.cursor.server') continue;
      assert.ok(payloadExamples[key], `missing examples for ${key}`);
    }
  });

  for (const [key, { valid, invalid }] of Object.entries(payloadExamples)) {
    it(`${key}: accepts valid payloads and refuses near misses`, () => {
      const schema = schemaFor(key);
      for (const payload of valid) assert.ok(schema.safeParse(payload).success, `should accept ${JSON.stringify(payload)}`);
      for (const payload of invalid) assert.ok(!schema.safeParse(payload).success, `should refuse ${JSON.stringify(payload)}`);
    });
  }
});

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
