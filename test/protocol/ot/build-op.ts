import type { TextOp } from '../../../protocol/schemas/collaboration';

/** One step of a generated op: keep or delete `n` characters of the document, or insert `text`. */
export type Step = { kind: 'retain' | 'insert' | 'delete'; n: number; text: string };

/**
 * A valid op on `doc`, built component by component without normalizing: retains and deletes
 * take whole characters (code points), so a generated op only cuts between them (an emoji is two
 * units); steps past the end of `doc` take what is left, or nothing.
 */
export function buildOp(doc: string, steps: readonly Step[]): TextOp {
  const cps = Array.from(doc);
  let at = 0;
  const op: TextOp = [];
  for (const s of steps) {
    if (s.kind === 'insert') {
      op.push(s.text);
      continue;
    }
    const taken = cps.slice(at, at + s.n).join('');
    at += Math.min(s.n, cps.length - at);
    if (taken.length === 0) continue;
    op.push(s.kind === 'retain' ? taken.length : { d: taken });
  }
  return op;
}
