import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGlobList } from '../../../extension/search/glob-list';

describe('a typed list of globs', () => {
  it('splits on commas; a leading ! excludes; blanks are ignored', () => {
    assert.deepEqual(parseGlobList(' src/**, !**/*.test.ts ,, ! dist , !'), { include: ['src/**'], exclude: ['**/*.test.ts', 'dist'] });
    assert.deepEqual(parseGlobList(''), { include: [], exclude: [] });
  });
});
