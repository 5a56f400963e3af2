/**
 * The wire form (LF line endings) of one editor document as the binding last saw it, in chunks.
 *
 * Why a copy of its own: a change event carries the inserted text but not the deleted one, and an
 * op must carry both (`{d: text}`), so the text before each change has to be at hand. VS Code's
 * document is already past the change when the event arrives, and `ClientDocument.text` builds
 * the whole string after every edit. Here a slice or a small edit costs about one chunk, so a
 * keystroke in a 1 MB file does not copy the file.
 */
import { OtError } from '../../protocol/ot/ot-error';
import { scanOp, type TextOp } from '../../protocol/ot/text-op';

const CHUNK = 4096;

export class WireText {
  private chunks: string[];
  private size: number;

  constructor(text = '') {
    this.chunks = split(text);
    this.size = text.length;
  }

  get length(): number {
    return this.size;
  }

  toString(): string {
    return this.chunks.join('');
  }

  /** The text in [from, to), clamped to the document. */
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

  /**
   * Applies `op` in place. Throws `OtError` (and changes nothing) if it does not fit: a retain or
   * delete past the end, or a delete whose text is not this text's. A mismatch means the copy no
   * longer follows the editor, which the binding treats as divergence.
   */
  apply(op: TextOp): void {
    scanOp(op);
    let pos = 0;
    for (let i = 0; i < op.length; i++) {
      const c = op[i]!;
      if (typeof c === 'string') continue;
      const n = typeof c === 'number' ? c : c.d.length;
      if (pos + n > this.size) throw new OtError('OP_OUT_OF_RANGE', `op component ${i} runs to ${pos + n}, past the end of the text (${this.size})`, i);
      if (typeof c === 'object' && this.slice(pos, pos + n) !== c.d) {
        throw new OtError('OP_DELETE_MISMATCH', `op component ${i} deletes text at ${pos} that is not the text's`, i);
      }
      pos += n;
    }
    // Back to front, so that each edit leaves the positions of the earlier ones unchanged.
    for (let i = op.length - 1; i >= 0; i--) {
      const c = op[i]!;
      if (typeof c === 'number') pos -= c;
      else if (typeof c === 'string') this.splice(pos, 0, c);
      else {
        pos -= c.d.length;
        this.splice(pos, c.d.length, '');
      }
    }
  }

  /** Replaces `del` code units at `pos` by `ins` (already checked). */
  private splice(pos: number, del: number, ins: string): void {
    const chunks = this.chunks;
    if (chunks.length === 0) {
      this.chunks = split(ins);
      this.size = ins.length;
      return;
    }
    let first = 0;
    let start = 0;
    while (first < chunks.length - 1 && pos >= start + chunks[first]!.length) start += chunks[first++]!.length;
    let last = first;
    let end = start + chunks[first]!.length;
    while (pos + del > end) end += chunks[++last]!.length;
    let text = first === last ? chunks[first]! : chunks.slice(first, last + 1).join('');
    text = text.slice(0, pos - start) + ins + text.slice(pos - start + del);
    // Keep chunks from getting small: merge with the next one.
    if (text.length < CHUNK / 2 && last + 1 < chunks.length) text += chunks[++last]!;
    const pieces = split(text);
    if (first === last && pieces.length === 1) chunks[first] = pieces[0]!;
    else chunks.splice(first, last - first + 1, ...pieces);
    this.size += ins.length - del;
  }
}

/** Equal pieces of at most twice the chunk size (none for an empty text). */
function split(text: string): string[] {
  if (text.length === 0) return [];
  if (text.length <= 2 * CHUNK) return [text];
  const count = Math.ceil(text.length / CHUNK);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) pieces.push(text.slice(Math.floor((i * text.length) / count), Math.floor(((i + 1) * text.length) / count)));
  return pieces;
}
