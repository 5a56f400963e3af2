/**
 * A remote insert exactly at a local caret goes after the caret: the caret stays before it.
 *
 * VS Code moves a collapsed caret past text inserted at its position by a `WorkspaceEdit`. For
 * typing that only interleaves the two people's characters, but an input method (Japanese,
 * Chinese, Korean...) replaces its marked text relative to the caret: with someone else's
 * characters pushed in before the caret, the next composition update replaced *their*
 * characters and left the marked text behind (found by the pair-session e2e's IME round). So
 * before a remote edit the carets at its insert points are noted, and after it, a caret that VS
 * Code moved past the inserted text (and nothing else moved) is put back before it.
 *
 * Pure: positions in, positions out; `apply-queue.ts` reads and sets the editors' selections.
 */
import { type TextOp } from '../../protocol/ot';
import { type LineIndex, type LinePosition, positionAtWire, wireOffsetAt } from './eol';

/** A collapsed caret at one of the op's insert points: where VS Code will push it, and where it belongs. */
export interface CaretAtInsert {
  /** Its index among the editor's selections. */
  readonly selection: number;
  /** Wire offsets after the op. */
  readonly pushed: number;
  readonly kept: number;
}

/**
 * The carets (collapsed selections, as positions) that sit where `op` (wire) inserts text: at a
 * plain insert, or at the start of a replacement (an input method's next composition step
 * replaces its marked text: a caret there must not end up inside the new text), with where each goes.
 */
export function caretsAtInserts(op: TextOp, index: LineIndex, carets: ReadonlyArray<LinePosition | undefined>): CaretAtInsert[] {
  const runs = editRuns(op).filter((run) => run.inserted > 0);
  if (runs.length === 0) return [];
  const out: CaretAtInsert[] = [];
  carets.forEach((caret, selection) => {
    if (!caret) return;
    const at = wireOffsetAt(index, caret.line, caret.character);
    const run = runs.find((r) => r.start === at);
    if (run) out.push({ selection, kept: at + run.shiftBefore, pushed: at + run.shiftBefore + run.inserted });
  });
  return out;
}

/**
 * The selections to set after the op (`index` is the document after it), or undefined when none
 * moves: each noted caret that sits exactly where VS Code pushes it goes back before the insert.
 */
export function keptCarets(
  noted: readonly CaretAtInsert[],
  index: LineIndex,
  carets: ReadonlyArray<LinePosition | undefined>,
): Map<number, LinePosition> | undefined {
  const moves = new Map<number, LinePosition>();
  for (const caret of noted) {
    const now = carets[caret.selection];
    if (!now || wireOffsetAt(index, now.line, now.character) !== caret.pushed) continue;
    moves.set(caret.selection, positionAtWire(index, caret.kept));
  }
  return moves.size > 0 ? moves : undefined;
}

/**
 * Each run of inserts and deletes of `op` (between two retains): where it starts in the text
 * before, how much it inserts, and the net length the op added before it.
 */
function editRuns(op: TextOp): Array<{ start: number; inserted: number; shiftBefore: number }> {
  const runs: Array<{ start: number; inserted: number; shiftBefore: number }> = [];
  let at = 0;
  let shift = 0;
  let run: { start: number; inserted: number; shiftBefore: number } | undefined;
  for (const component of op) {
    if (typeof component === 'number') {
      run = undefined;
      at += component;
      continue;
    }
    if (!run) runs.push((run = { start: at, inserted: 0, shiftBefore: shift }));
    if (typeof component === 'string') {
      run.inserted += component.length;
      shift += component.length;
    } else {
      at += component.d.length;
      shift -= component.d.length;
    }
  }
  return runs;
}
