import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { matchesOfLine, PREVIEW_CHARS } from '../../../extension/search/ripgrep-json';

const match = (path: string, text: string, submatches: Array<{ start: number; end: number }>, line = 3) =>
  JSON.stringify({ type: 'match', data: { path: { text: path }, lines: { text }, line_number: line, absolute_offset: 0, submatches } });

describe('ripgrep --json matches', () => {
  it('gives zero-based lines and UTF-16 columns for UTF-8 byte offsets', () => {
    // 'é' is 2 bytes, '👋' 4 bytes and 2 UTF-16 units: the match 'TODO' starts at byte 7, column 4.
    const text = 'é👋 TODO(x)\n';
    const start = Buffer.byteLength('é👋 ');
    const out = matchesOfLine(match('src/a.ts', text, [{ start, end: start + 4 }]), new Set(['src/a.ts']));
    assert.deepEqual(out, [{ path: 'src/a.ts', line: 2, character: 4, length: 4, preview: 'é👋 TODO(x)' }]);
  });

  it('drops files it was not asked about, other messages, non-UTF-8 lines and garbage', () => {
    const allowed = new Set(['a.ts']);
    assert.deepEqual(matchesOfLine(match('.env', 'SECRET=1', [{ start: 0, end: 6 }]), allowed), []);
    assert.deepEqual(matchesOfLine(JSON.stringify({ type: 'begin', data: { path: { text: 'a.ts' } } }), allowed), []);
    assert.deepEqual(
      matchesOfLine(
        JSON.stringify({ type: 'match', data: { path: { text: 'a.ts' }, lines: { bytes: '/w==' }, line_number: 1, submatches: [] } }),
        allowed,
      ),
      [],
    );
    assert.deepEqual(matchesOfLine('{not json', allowed), []);
    assert.deepEqual(matchesOfLine(match('a.ts', 'x', [{ start: 2, end: 1 }]), allowed), []);
  });

  it('cuts a long line’s preview', () => {
    const text = 'x'.repeat(5000);
    const [out] = matchesOfLine(match('a.ts', text, [{ start: 10, end: 11 }]), new Set(['a.ts']));
    assert.equal(out!.preview.length, PREVIEW_CHARS);
  });
});
