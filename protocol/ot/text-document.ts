/**
 * A mutable document held in chunks, for the relay's copy of each shared document: applying a
 * small op to a large document costs about one chunk instead of a copy of the whole text.
 *
 * Why: a JavaScript string edit (`slice` + concatenation, as in `apply`) copies the whole string
 * on the next edit, and a string of more than ~64 K two-byte code units (one emoji or accented
 * letter makes a string two-byte) lives in V8's large-object space, where each copy costs far
 * more: about 7,000 edits/s on a 100 KB document, under the relay's target of 20,000 commits/s.
 *
 * Validation is exactly `apply`'s (`checkOp(op, doc)`): a refused op leaves the document as it was.
 * With `surrogates: 'unchecked'` it does not refuse ops that split a surrogate pair or insert a
 * lone one: for a copy of what an editor holds, which may have lone surrogates of its own (the
 * VS Code binding's mirror of the editor text); it must follow the editor, not judge it.
 */
import { OtError } from './ot-error';
import { loneSurrogateAt, scanOp, type TextOp } from './text-op';

const DEFAULT_CHUNK = 4096;

function isHigh(u: number): boolean {
  return u >= 0xd800 && u <= 0xdbff;
}
function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= 0xdfff;
}

export class TextDocument {
  private chunks: string[] = [];
  private size = 0;
  private readonly chunkSize: number;
  private readonly checkSurrogates: boolean;
  // A forward-only read position used while checking an op: chunk `ci` starts at `cs`.
  private ci = 0;
  private cs = 0;

  /** `chunkSize` (code units, default 4096) is for tests. */
  constructor(text = '', options: { chunkSize?: number; surrogates?: 'checked' | 'unchecked' } = {}) {
    this.chunkSize = Math.max(2, options.chunkSize ?? DEFAULT_CHUNK);
    this.checkSurrogates = options.surrogates !== 'unchecked';
    if (typeof text !== 'string') throw new OtError('OP_INVALID', 'the initial document must be a string');
    if (text.length > 0) this.chunks = this.split(text);
    this.size = text.length;
  }

  get length(): number {
    return this.size;
  }

  toString(): string {
    return this.chunks.join('');
  }

  /** The text in [from, to), clamped to the document; costs about the chunks it spans. */
  slice(from: number, to: number): string {
    from = Math.max(0, from);
    to = Math.min(this.size, to);
    if (to <= from) return '';
    let out = '';
    let start = 0;
    for (const chunk of this.chunks) {
      const end = start + chunk.length;
      if (end > from) {
        out += chunk.slice(Math.max(0, from - start), Math.min(chunk.length, to - start));
        if (end >= to) break;
      }
      start = end;
    }
    return out;
  }

  /** Throws the `OtError` that `apply` would throw for this op on this document. */
  check(op: TextOp): void {
    scanOp(op);
    this.ci = 0;
    this.cs = 0;
    let pos = 0;
    for (let i = 0; i < op.length; i++) {
      const c = op[i]!;
      if (typeof c === 'number') {
        const end = pos + c;
        if (end > this.size) {
          throw new OtError('OP_OUT_OF_RANGE', `op component ${i} retains to ${end}, past the end of the document (${this.size})`, i);
        }
        this.checkBoundary(end, i);
        pos = end;
      } else if (typeof c === 'string') {
        const at = this.checkSurrogates ? loneSurrogateAt(c) : -1;
        if (at >= 0) throw new OtError('OP_SPLITS_SURROGATE', `op component ${i} inserts a lone surrogate at ${at} (half of a pair)`, i);
      } else {
        for (const key in c) {
          if (key !== 'd') throw new OtError('OP_INVALID', `op component ${i}: a delete has only the key "d", not "${key}"`, i);
        }
        const end = pos + c.d.length;
        if (end > this.size) {
          throw new OtError('OP_OUT_OF_RANGE', `op component ${i} deletes to ${end}, past the end of the document (${this.size})`, i);
        }
        if (!this.matches(pos, c.d)) {
          throw new OtError('OP_DELETE_MISMATCH', `op component ${i} deletes text at ${pos} that is not the document's`, i);
        }
        this.checkBoundary(end, i);
        pos = end;
      }
    }
  }

  /** Applies `op` in place, after checking it like `apply` does. */
  apply(op: TextOp): void {
    this.check(op);
    let pos = 0;
    for (const c of op) pos += typeof c === 'number' ? c : typeof c === 'string' ? 0 : c.d.length;
    // Back to front, so that each edit leaves the positions of the earlier ones unchanged.
    for (let i = op.length - 1; i >= 0; i--) {
      const c = op[i]!;
      if (typeof c === 'number') {
        pos -= c;
      } else if (typeof c === 'string') {
        this.splice(pos, 0, c);
      } else {
        pos -= c.d.length;
        this.splice(pos, c.d.length, '');
      }
    }
  }

  /** Moves the read position forward to the chunk holding `pos` (pos < size). */
  private seek(pos: number): string {
    let chunk = this.chunks[this.ci]!;
    while (pos >= this.cs + chunk.length) {
      this.cs += chunk.length;
      chunk = this.chunks[++this.ci]!;
    }
    return chunk;
  }

  private checkBoundary(pos: number, i: number): void {
    if (!this.checkSurrogates || pos <= 0 || pos >= this.size) return;
    const before = this.seek(pos - 1);
    const hi = before.charCodeAt(pos - 1 - this.cs);
    if (!isHigh(hi)) return;
    const lo = pos - this.cs < before.length ? before.charCodeAt(pos - this.cs) : this.chunks[this.ci + 1]!.charCodeAt(0);
    if (isLow(lo)) {
      throw new OtError('OP_SPLITS_SURROGATE', `op component ${i} ends at ${pos}, between the two halves of a surrogate pair`, i);
    }
  }

  /** True if the document has `text` at `pos` (pos + text.length <= size). */
  private matches(pos: number, text: string): boolean {
    let done = 0;
    while (done < text.length) {
      const chunk = this.seek(pos + done);
      const from = pos + done - this.cs;
      const k = Math.min(chunk.length - from, text.length - done);
      if (done === 0 && k === text.length) return chunk.startsWith(text, from);
      if (chunk.slice(from, from + k) !== text.slice(done, done + k)) return false;
      done += k;
    }
    return true;
  }

  /** Replaces `del` code units at `pos` by `ins` (already checked). */
  private splice(pos: number, del: number, ins: string): void {
    const chunks = this.chunks;
    if (chunks.length === 0) {
      chunks.push(...this.split(ins));
      this.size = ins.length;
      return;
    }
    // The chunk that holds `pos` (the last one if pos is the end), and the one that holds pos + del.
    let first = 0;
    let start = 0;
    while (first < chunks.length - 1 && pos >= start + chunks[first]!.length) start += chunks[first++]!.length;
    let last = first;
    let end = start + chunks[first]!.length;
    while (pos + del > end) end += chunks[++last]!.length;
    let text = first === last ? chunks[first]! : chunks.slice(first, last + 1).join('');
    const at = pos - start;
    text = text.slice(0, at) + ins + text.slice(at + del);
    // Keep chunks from getting small: merge with the next one.
    if (text.length < this.chunkSize / 2 && last + 1 < chunks.length) text += chunks[++last]!;
    const pieces = text.length === 0 ? [] : this.split(text);
    if (first === last && pieces.length === 1) chunks[first] = pieces[0]!;
    else chunks.splice(first, last - first + 1, ...pieces);
    this.size += ins.length - del;
  }

  /**
   * `text` as chunks of at most twice the chunk size, in equal parts so that none is under half
   * of it. Invariant: every chunk but the last holds between half and twice the chunk size.
   */
  private split(text: string): string[] {
    if (text.length <= 2 * this.chunkSize) return [text];
    const count = Math.ceil(text.length / this.chunkSize);
    const pieces: string[] = [];
    for (let i = 0; i < count; i++) {
      pieces.push(text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)));
    }
    return pieces;
  }
}
