/**
 * `transform` and `compose`: the two walks over a pair of ops. Both read the first op piece by
 * piece with a `Reader` while going through the second one component by component.
 */
import { OtError } from './ot-error';
import { appendDelete, appendInsert, appendRetain, normalize, scanOp, trim, type TextOp, type TextOpComponent } from './text-op';

/**
 * Which op's insert goes first when both insert at the same place: with `'left'`, the op being
 * transformed; with `'right'`, the other one. The two sides of a pair must be opposite.
 */
export type Side = 'left' | 'right';

/** Reads an op piece by piece: `i` is the current component, `off` how much of it was taken. */
class Reader {
  i = 0;
  off = 0;
  constructor(private readonly op: TextOp) {}

  peek(): TextOpComponent | undefined {
    return this.op[this.i];
  }

  /** Takes up to `n` of the current retain `c`; returns how much was taken. */
  retain(c: number, n: number): number {
    const rest = c - this.off;
    if (rest <= n) {
      this.i++;
      this.off = 0;
      return rest;
    }
    this.off += n;
    return n;
  }

  /** Takes up to `n` code units of the current insert or delete text `s`. */
  text(s: string, n: number): string {
    const off = this.off;
    if (s.length - off <= n) {
      this.i++;
      this.off = 0;
      return off === 0 ? s : s.slice(off);
    }
    this.off = off + n;
    return s.slice(off, off + n);
  }

  /** Skips `k` code units of the current text `s` (k <= what is left of it). */
  skip(s: string, k: number): void {
    if (this.off + k >= s.length) {
      this.i++;
      this.off = 0;
    } else {
      this.off += k;
    }
  }

  /** Appends what is left of the op to `out`. */
  drain(out: TextOp): void {
    for (let x = this.peek(); x !== undefined; x = this.peek()) {
      if (typeof x === 'number') appendRetain(out, this.retain(x, x));
      else if (typeof x === 'string') appendInsert(out, this.text(x, x.length));
      else appendDelete(out, this.text(x.d, x.d.length));
    }
  }
}

function sameText(a: string, ao: number, b: string, bo: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a.charCodeAt(ao + k) !== b.charCodeAt(bo + k)) return false;
  return true;
}

function mismatch(what: string, mine: string, theirs: string): OtError {
  const show = (s: string) => JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}...` : s);
  return new OtError('OP_DELETE_MISMATCH', `${what}: ${show(mine)} against ${show(theirs)}`);
}

/**
 * `op` rewritten to apply after `other`, both made against the same document, so that
 * `apply(apply(doc, other), transform(op, other, side))` equals
 * `apply(apply(doc, op), transform(other, op, opposite side))` (TP1).
 *
 * Tie-break (the ottypes convention, the same on client and server): when both ops insert at the
 * same place, `'left'` puts `op`'s insert first and `'right'` puts `other`'s first. With a
 * central server, committed text goes first: an op not yet committed is transformed with
 * `'right'` (the server's incoming op against the history; a client's pending ops against an op
 * from the server), and a committed op with `'left'` (a client's incoming server op against its
 * pending ops).
 *
 * Where both delete the same text, the transformed op no longer deletes it; a delete keeps exactly
 * the text still there. An insert inside a range that `other` deletes survives at its start.
 * Both ops are read in normal form, so `[{d: 'x'}, 'y']` transforms exactly like `['y', {d: 'x'}]`.
 * Throws `OP_INVALID` on a malformed op and `OP_DELETE_MISMATCH` if the two disagree on the
 * text they both delete (they cannot have been made against the same document).
 */
export function transform(op: TextOp, other: TextOp, side: Side): TextOp {
  if (side !== 'left' && side !== 'right') throw new TypeError(`side must be 'left' or 'right', not ${String(side)}`);
  const a = normalize(op);
  const b = normalize(other);
  const left = side === 'left';
  const out: TextOp = [];
  const r = new Reader(a);
  for (let j = 0; j < b.length; j++) {
    let x = r.peek();
    if (x === undefined) break; // nothing of `op` left: the rest of `other` only adds retains
    const c = b[j]!;
    if (typeof c === 'number') {
      let n = c;
      while (n > 0 && x !== undefined) {
        if (typeof x === 'number') {
          const k = r.retain(x, n);
          appendRetain(out, k);
          n -= k;
        } else if (typeof x === 'string') {
          appendInsert(out, r.text(x, x.length));
        } else {
          const s = r.text(x.d, n);
          appendDelete(out, s);
          n -= s.length;
        }
        x = r.peek();
      }
    } else if (typeof c === 'string') {
      if (left && typeof x === 'string') appendInsert(out, r.text(x, x.length));
      appendRetain(out, c.length);
    } else {
      const d = c.d;
      let o = 0;
      while (o < d.length && x !== undefined) {
        if (typeof x === 'number') {
          o += r.retain(x, d.length - o);
        } else if (typeof x === 'string') {
          appendInsert(out, r.text(x, x.length));
        } else {
          // Both delete this text: it is gone already, so `op` no longer deletes it.
          const from = r.off;
          const k = Math.min(x.d.length - from, d.length - o);
          if (!sameText(x.d, from, d, o, k)) {
            throw mismatch('concurrent deletes disagree on the text they both delete', x.d.slice(from, from + k), d.slice(o, o + k));
          }
          r.skip(x.d, k);
          o += k;
        }
        x = r.peek();
      }
    }
  }
  r.drain(out);
  return trim(out);
}

/**
 * One op with the effect of `a` then `b` (`b` made against the document `a` produces):
 * `apply(doc, compose(a, b))` equals `apply(apply(doc, a), b)`. The result is in normal form.
 * Throws `OP_INVALID` on a malformed op and `OP_DELETE_MISMATCH` when `b` deletes text that `a`
 * inserted but names other text.
 */
export function compose(a: TextOp, b: TextOp): TextOp {
  scanOp(a);
  scanOp(b);
  const out: TextOp = [];
  const r = new Reader(a);
  for (let j = 0; j < b.length; j++) {
    const c = b[j]!;
    if (typeof c === 'number') {
      let n = c;
      while (n > 0) {
        const x = r.peek();
        if (x === undefined) {
          appendRetain(out, n);
          break;
        }
        if (typeof x === 'number') {
          const k = r.retain(x, n);
          appendRetain(out, k);
          n -= k;
        } else if (typeof x === 'string') {
          const s = r.text(x, n);
          appendInsert(out, s);
          n -= s.length;
        } else {
          appendDelete(out, r.text(x.d, x.d.length)); // deleted by `a`: `b` never saw it
        }
      }
    } else if (typeof c === 'string') {
      appendInsert(out, c);
    } else {
      const d = c.d;
      let o = 0;
      while (o < d.length) {
        const x = r.peek();
        if (x === undefined) {
          appendDelete(out, o === 0 ? d : d.slice(o));
          break;
        }
        if (typeof x === 'number') {
          const k = r.retain(x, d.length - o);
          appendDelete(out, k === d.length ? d : d.slice(o, o + k));
          o += k;
        } else if (typeof x === 'string') {
          // `b` deletes what `a` inserted: the two cancel out.
          const from = r.off;
          const k = Math.min(x.length - from, d.length - o);
          if (!sameText(x, from, d, o, k)) {
            throw mismatch('the second op deletes text the first inserted, but other text', d.slice(o, o + k), x.slice(from, from + k));
          }
          r.skip(x, k);
          o += k;
        } else {
          appendDelete(out, r.text(x.d, x.d.length));
        }
      }
    }
  }
  r.drain(out);
  return trim(out);
}
