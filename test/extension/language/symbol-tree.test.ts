import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SymbolEntry } from '../../../protocol';
import { symbolTree, type TreeNode } from '../../../extension/language/symbol-tree';

const r = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
const entry = (name: string, parent?: number): SymbolEntry => ({
  name,
  symbol_kind: 5,
  range: r,
  selection_range: r,
  ...(parent !== undefined && { parent }),
});
const shape = (nodes: Array<TreeNode<string>>): unknown => nodes.map((n) => (n.children.length ? [n.value, shape(n.children)] : n.value));

describe('document symbols back into a tree', () => {
  it('nests each symbol under the parent it names', () => {
    const tree = symbolTree([entry('A'), entry('a1', 0), entry('a1x', 1), entry('a2', 0), entry('B')], (e) => e.name);
    assert.deepEqual(shape(tree), [['A', [['a1', ['a1x']], 'a2']], 'B']);
  });

  it('makes a symbol whose parent is not an earlier one a root (a host cannot build a cycle)', () => {
    const tree = symbolTree([entry('A', 0), entry('B', 5), entry('C', 1)], (e) => e.name);
    assert.deepEqual(shape(tree), ['A', ['B', ['C']]]);
  });
});
