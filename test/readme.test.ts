import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
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

describe('ARCHITECTURE.md', () => {
  const architecture = readFileSync(join(__dirname, '..', 'ARCHITECTURE.md'), 'utf8');

  it('names only files and folders that exist (the map follows the code)', () => {
    // Every `path/with/a/slash` in backticks that looks like a repository path.
    const paths = [...architecture.matchAll(/`((?:protocol|relay|extension|test|bench|scripts|docker|electron-dashboard)\/[\w./*-]*)`/g)]
      .map((match) => match[1]!)
      .filter((path) => !path.includes('*'));
    assert.ok(paths.length > 40, `only ${paths.length} paths found`);
    const missing = paths.filter((path) => !existsSync(join(__dirname, '..', path)));
    assert.deepEqual(missing, [], 'ARCHITECTURE.md names paths that do not exist');
  });
});
