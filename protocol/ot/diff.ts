/**
 * An op between two texts whose history is unknown. Used where a client or the relay only has
 * the two texts (a viewer's copy after the relay lost history, a fallback when the ops that led
 * from one to the other are gone); where the ops are known, they are used instead.
 */
import { appendDelete, appendInsert, appendRetain, splitsPair, type TextOp } from './text-op';

/** Where two texts differ: they share their first `prefix` and their last `suffix` code units. */
export interface DiffSpan {
  prefix: number;
  suffix: number;
}

/**
 * The longest common prefix and suffix of `from` and `to` (not overlapping), never ending inside
 * a surrogate pair of either text. Linear in the texts' length.
 */
export function diffSpan(from: string, to: string): DiffSpan {
  const max = Math.min(from.length, to.length);
  let prefix = 0;
  while (prefix < max && from.charCodeAt(prefix) === to.charCodeAt(prefix)) prefix++;
  if (splitsPair(from, prefix) || splitsPair(to, prefix)) prefix--;
  let suffix = 0;
  while (suffix < max - prefix && from.charCodeAt(from.length - 1 - suffix) === to.charCodeAt(to.length - 1 - suffix)) suffix++;
  if (splitsPair(from, from.length - suffix) || splitsPair(to, to.length - suffix)) suffix--;
  return { prefix, suffix };
}

/**
 * The op that keeps `span`'s common prefix and suffix and replaces the middle (insert, then
 * delete: the normal form). `span` must be common to both texts.
 */
export function spanOp(from: string, to: string, { prefix, suffix }: DiffSpan): TextOp {
  const op: TextOp = [];
  appendRetain(op, prefix);
  appendInsert(op, to.slice(prefix, to.length - suffix));
  appendDelete(op, from.slice(prefix, from.length - suffix));
  return op;
}

/**
 * One replacement that turns `from` into `to`: the common prefix and suffix are retained, the
 * middle replaced. `apply(from, diffOp(from, to)) === to`. The boundaries never fall inside a
 * surrogate pair of either text, so the op carries no lone surrogate that was not already in the
 * texts. Linear in the texts' length.
 */
export function diffOp(from: string, to: string): TextOp {
  if (from === to) return [];
  return spanOp(from, to, diffSpan(from, to));
}
