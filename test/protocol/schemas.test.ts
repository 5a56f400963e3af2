import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { events } from '../../protocol';
import { payloadExamples } from './examples';

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
