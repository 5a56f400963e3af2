import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { comparePaths } from '../../../extension/search/path-order';

describe('the Shared Search Results order (comparePaths)', () => {
  it('sorts folder by folder, whatever order the host found them in', () => {
    const found = ['src/main.ts', 'docs/notes.md', 'src/greet.ts', 'src/a/z.ts', 'README.md'];
    assert.deepEqual([...found].sort(comparePaths), ['docs/notes.md', 'README.md', 'src/a/z.ts', 'src/greet.ts', 'src/main.ts']);
  });

  it('ignores case and compares numbers by value, with a stable tie-break', () => {
    assert.deepEqual(['b.ts', 'A.ts', 'a.ts', 'file10.ts', 'file2.ts'].sort(comparePaths), [
      'A.ts',
      'a.ts',
      'b.ts',
      'file2.ts',
      'file10.ts',
    ]);
    assert.equal(comparePaths('src', 'src/x.ts') < 0, true);
    assert.equal(comparePaths('src/x.ts', 'src/x.ts'), 0);
  });
});
