import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { errorCodes, events } from '../protocol';
import { settingDescriptions } from '../relay/config/config';

const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

describe('README reference tables', () => {
  it('lists every error code with its meaning', () => {
    for (const [code, meaning] of Object.entries(errorCodes))
      assert.ok(readme.includes(`| \`${code}\` | ${meaning} |`), `README lacks ${code}`);
  });

  it('lists every setting with its meaning', () => {
    for (const [name, meaning] of Object.entries(settingDescriptions))
      assert.ok(readme.includes(`| \`${name}\` | ${meaning} |`), `README lacks ${name}`);
  });

  it('lists every event', () => {
    for (const name of Object.keys(events)) assert.ok(readme.includes(`| \`${name}\` |`), `README lacks ${name}`);
  });
});
