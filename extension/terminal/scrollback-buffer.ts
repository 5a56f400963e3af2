/**
 * A shared terminal's recent output, as the pieces guests were sent (each numbered `seq` 1, 2,
 * ...), bounded by characters: the oldest pieces go first, and a piece larger than the bound
 * alone keeps its end (from a line start when there is one). A guest that asks for what came after
 * the piece it has (`since`) gets the kept pieces after it, and `gap` when some it missed are gone.
 * Pure: no VS Code, no timers.
 */

export interface OutputPiece {
  seq: number;
  data: string;
}

export interface Catchup {
  pieces: OutputPiece[];
  /** Output after `since` that is no longer kept. */
  gap: boolean;
  /** The last piece's number so far (the guest is in step up to here after the answer). */
  seq: number;
}

export class ScrollbackBuffer {
  private readonly pieces: OutputPiece[] = [];
  private size = 0;
  private last = 0;
  /** The highest seq of which anything was dropped (wholly or its head). */
  private droppedUpTo = 0;

  constructor(readonly maxChars: number) {
    if (!(maxChars > 0)) throw new RangeError('maxChars must be positive');
  }

  /** The number the last piece got (0: none yet). */
  get lastSeq(): number {
    return this.last;
  }

  /** How many characters are kept. */
  get length(): number {
    return this.size;
  }

  /** Keeps `data` as the next piece and returns it with its number. */
  append(data: string): OutputPiece {
    const piece = { seq: ++this.last, data };
    this.pieces.push(piece);
    this.size += data.length;
    this.trim();
    return piece;
  }

  /** The kept pieces after `since` (0: all of them). */
  since(since = 0): Catchup {
    const pieces = this.pieces.filter((piece) => piece.seq > since);
    return { pieces, gap: this.droppedUpTo > since, seq: this.last };
  }

  private trim(): void {
    while (this.size > this.maxChars && this.pieces.length > 1) {
      const dropped = this.pieces.shift()!;
      this.size -= dropped.data.length;
      this.droppedUpTo = dropped.seq;
    }
    const only = this.pieces[0];
    if (this.size > this.maxChars && only) {
      only.data = keepEnd(only.data, this.maxChars);
      this.size = only.data.length;
      this.droppedUpTo = only.seq;
    }
  }
}

/** The last `max` characters of `text`, from the first line start within them if there is one, never half a surrogate pair. */
export function keepEnd(text: string, max: number): string {
  let start = text.length - max;
  if (start <= 0) return text;
  const newline = text.indexOf('\n', start);
  if (newline !== -1 && newline + 1 < text.length) start = newline + 1;
  else if (isLowSurrogate(text.charCodeAt(start))) start++;
  return text.slice(start);
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** One frame of a scrollback answer: data up to the piece numbered `seq`. */
export interface ScrollbackFrame {
  seq: number;
  data: string;
  gap: boolean;
  done: boolean;
}

/**
 * A catch-up as few frames as fit: kept pieces joined while their JSON text stays within
 * `maxBytes` (each piece already does, as the coalescer cut it); `gap` on the first, `done` on the
 * last; an empty catch-up is one empty frame.
 */
export function scrollbackFrames(catchup: Catchup, maxBytes: number, measure: (text: string) => number): ScrollbackFrame[] {
  const frames: ScrollbackFrame[] = [];
  let data = '';
  let bytes = 0;
  let seq = -1;
  for (const piece of catchup.pieces) {
    const size = measure(piece.data);
    if (seq !== -1 && bytes + size > maxBytes) {
      frames.push({ seq, data, gap: false, done: false });
      data = '';
      bytes = 0;
    }
    data += piece.data;
    bytes += size;
    seq = piece.seq;
  }
  frames.push({ seq: catchup.seq, data, gap: false, done: true });
  frames[0]!.gap = catchup.gap;
  return frames;
}
