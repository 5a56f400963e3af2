// Writes protocol/json/<event>.<direction>.json from the zod schemas. A test fails when the
// checked-in files are out of step, so run `npm run schemas` after changing a schema.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildJsonSchemas } from '../protocol/json-schema';

export const JSON_SCHEMA_DIR = join(__dirname, '..', 'protocol', 'json');

export function renderJsonSchemas(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, schema] of Object.entries(buildJsonSchemas())) {
    files.set(`${name}.json`, `${JSON.stringify(schema, null, 2)}\n`);
  }
  return files;
}

if (require.main === module) {
  mkdirSync(JSON_SCHEMA_DIR, { recursive: true });
  for (const file of readdirSync(JSON_SCHEMA_DIR)) rmSync(join(JSON_SCHEMA_DIR, file));
  for (const [file, text] of renderJsonSchemas()) writeFileSync(join(JSON_SCHEMA_DIR, file), text);
  console.log(`wrote ${renderJsonSchemas().size} schemas to ${JSON_SCHEMA_DIR}`);
}
