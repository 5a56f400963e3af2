import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import { JSON_SCHEMA_DIR, renderJsonSchemas } from '../../scripts/generate-json-schemas';
import { clientFrameExamples, payloadExamples } from './examples';

describe('JSON Schema export', () => {
  const rendered = renderJsonSchemas();

  it('is checked in and in step with the zod schemas (run `npm run schemas` after a change)', () => {
    const onDisk = readdirSync(JSON_SCHEMA_DIR).sort();
    assert.deepEqual(onDisk, [...rendered.keys()].sort());
    for (const [file, text] of rendered) {
      assert.equal(readFileSync(join(JSON_SCHEMA_DIR, file), 'utf8'), text, `${file} is stale`);
    }
  });

  it('agrees with zod on every example: a JSON Schema validator accepts and refuses the same payloads', () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false });
    for (const [key, { valid, invalid }] of Object.entries(payloadExamples)) {
      const text = rendered.get(`${key}.json`);
      assert.ok(text, `no JSON Schema for ${key}`);
      const validate = ajv.compile(JSON.parse(text) as object);
      for (const payload of valid)
        assert.ok(validate(payload), `${key} should accept ${JSON.stringify(payload)}: ${ajv.errorsText(validate.errors)}`);
      for (const payload of invalid) assert.ok(!validate(payload), `${key} should refuse ${JSON.stringify(payload)}`);
    }
  });

  it('describes the client envelope the README examples use', () => {
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(JSON.parse(rendered.get('envelope.client.json')!) as object);
    for (const frame of clientFrameExamples.valid) assert.ok(validate(frame), ajv.errorsText(validate.errors));
    for (const frame of clientFrameExamples.invalid) assert.ok(!validate(frame), `should refuse ${JSON.stringify(frame)}`);
  });
});
