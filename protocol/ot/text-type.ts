/**
 * The OT type for plain text, as one object with the ottypes interface
 * (https://github.com/ottypes/docs): ops have the JSON shape of `text-unicode` (a number
 * retains, a string inserts, `{d: "text"}` deletes that text), but positions and lengths count
 * UTF-16 code units, as VS Code and `String#length` do, not code points. Hence its own name and
 * uri: a `text-unicode` reader would misplace edits after an astral character.
 *
 * The one tie-break rule, used by client and server alike: `transform(op, other, 'left')` puts
 * `op`'s insert first (to the left) when both insert at the same place; `'right'` puts it after.
 * Committed text goes first: an uncommitted op is transformed with `'right'`, a committed one with
 * `'left'` (details at `transform`).
 */
import { apply, checkOp } from './apply';
import { transformCursor, transformSelection, type SelectionRange } from './cursor';
import { OtError } from './ot-error';
import { fromChange, invert, isNoop, isNormalized, length, newLength, normalize, type TextOp } from './text-op';
import { compose, transform, type Side } from './transform';

/** The ottypes interface (the part that every type has, plus the optional `invert`). */
export interface OtType<Snapshot, Op> {
  readonly name: string;
  readonly uri: string;
  create(initial?: Snapshot): Snapshot;
  apply(snapshot: Snapshot, op: Op): Snapshot;
  transform(op: Op, other: Op, side: Side): Op;
  compose(a: Op, b: Op): Op;
  invert(op: Op): Op;
  normalize(op: Op): Op;
  checkOp(op: unknown, snapshot?: Snapshot): asserts op is Op;
}

function create(initial = ''): string {
  if (typeof initial !== 'string') throw new OtError('OP_INVALID', 'the initial document must be a string');
  return initial;
}

export interface TextType extends OtType<string, TextOp> {
  transformCursor(cursor: number, op: TextOp, isOwnOp?: boolean): number;
  /** ottypes' `text-unicode` name for `transformCursor`. */
  transformPosition(cursor: number, op: TextOp, isOwnOp?: boolean): number;
  transformSelection(selection: SelectionRange, op: TextOp, isOwnOp?: boolean): SelectionRange;
  isNormalized(op: TextOp): boolean;
  isNoop(op: TextOp): boolean;
  length(op: TextOp): number;
  newLength(op: TextOp, baseLength?: number): number;
  fromChange(offset: number, deletedText: string, insertedText: string): TextOp;
}

export const textType: TextType = {
  name: 'text-utf16',
  uri: 'https://tandem.dev/types/text-utf16/v1',
  create,
  apply,
  transform,
  compose,
  invert,
  normalize,
  checkOp,
  transformCursor,
  transformPosition: transformCursor,
  transformSelection,
  isNormalized,
  isNoop,
  length,
  newLength,
  fromChange,
};
