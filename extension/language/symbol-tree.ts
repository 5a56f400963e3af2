/**
 * Document symbols travel flat (each names its parent's index, which comes before it): this puts
 * the tree back together. A parent index that does not name an earlier symbol makes the symbol a
 * root rather than failing the whole outline. Pure: no `vscode`, the node unit tests run it.
 */
import type { SymbolEntry } from '../../protocol';

export interface TreeNode<T> {
  value: T;
  children: Array<TreeNode<T>>;
}

export function symbolTree<T>(entries: readonly SymbolEntry[], make: (entry: SymbolEntry) => T): Array<TreeNode<T>> {
  const nodes: Array<TreeNode<T>> = [];
  const roots: Array<TreeNode<T>> = [];
  entries.forEach((entry, index) => {
    const node: TreeNode<T> = { value: make(entry), children: [] };
    nodes.push(node);
    const parent = entry.parent !== undefined && entry.parent < index ? nodes[entry.parent] : undefined;
    (parent ? parent.children : roots).push(node);
  });
  return roots;
}
