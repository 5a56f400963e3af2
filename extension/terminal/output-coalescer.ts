/**
 * Turns a shell's stream of small writes into few frames: output is collected for `delayMs`
 * (~20 ms, below what a person notices) and goes out as pieces whose JSON text is at most
 * `maxPieceBytes` (16 KiB, well inside any relay's frame limit, escape sequences and all). A flood
 * (`cat` of a large file, `yes`) is bounded too: at most `bytesPerSecond` leave (a burst of
 * `burstBytes`); what waits beyond `maxPendingChars` is dropped from its oldest end and the guests
 * are told how much they missed. The host's own terminal is not affected: it writes everything.
 * Timers and the clock are injectable, so the logic is tested without waiting.
 */

export interface CoalescerOptions {
  delayMs?: number;
  maxPieceBytes?: number;
  maxPieceChars?: number;
  bytesPerSecond?: number;
  burstBytes?: number;
  maxPendingChars?: number;
  now?: () => number;
  setTimer?: (run: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

const defaults = {
  delayMs: 20,
  maxPieceBytes: 16 * 1024,
  maxPieceChars: 16 * 1024,
  bytesPerSecond: 256 * 1024,
  burstBytes: 64 * 1024,
  maxPendingChars: 256 * 1024,
};

export class OutputCoalescer {
  private readonly options: Required<CoalescerOptions>;
  private pending = '';
  private skipped = 0;
  private timer: unknown;
  private tokens: number;
  private refilledAt: number;
  private disposed = false;

  constructor(
    private readonly emit: (piece: string) => void,
    options: CoalescerOptions = {},
  ) {
    this.options = {
      ...defaults,
      now: () => Date.now(),
      setTimer: (run, ms) => setTimeout(run, ms),
      clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
      ...options,
    };
    this.tokens = this.options.burstBytes;
    this.refilledAt = this.options.now();
  }

  /** Characters waiting to go out. */
  get waiting(): number {
    return this.pending.length;
  }

  push(data: string): void {
    if (this.disposed || data.length === 0) return;
    this.pending += data;
    const over = this.pending.length - this.options.maxPendingChars;
    if (over > 0) {
      let cut = over;
      if (isLowSurrogate(this.pending.charCodeAt(cut))) cut++;
      this.skipped += cut;
      this.pending = this.pending.slice(cut);
    }
    this.schedule();
  }

  /** Sends what the rate allows now; the rest waits for the next tick. */
  flush(): void {
    this.timer = undefined;
    if (this.disposed) return;
    this.refill();
    if (this.skipped > 0) {
      const note = `\r\n\x1b[2m[Tandem: ${formatSize(this.skipped)} of output not sent to guests]\x1b[0m\r\n`;
      this.skipped = 0;
      this.emit(note);
      this.tokens -= note.length;
    }
    while (this.pending.length > 0 && this.tokens > 0) {
      const budget = Math.min(this.options.maxPieceBytes, Math.max(this.tokens, 256));
      const [piece] = splitForWire(this.pending, budget, this.options.maxPieceChars, 1);
      this.pending = this.pending.slice(piece!.length);
      this.tokens -= jsonBytes(piece!);
      this.emit(piece!);
    }
    if (this.pending.length > 0) this.schedule();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.options.clearTimer(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer === undefined) this.timer = this.options.setTimer(() => this.flush(), this.options.delayMs);
  }

  private refill(): void {
    const now = this.options.now();
    const earned = ((now - this.refilledAt) / 1000) * this.options.bytesPerSecond;
    this.refilledAt = now;
    this.tokens = Math.min(this.options.burstBytes, this.tokens + earned);
  }
}

/**
 * Cuts `text` into pieces whose JSON string encoding (UTF-8, without the quotes) is at most
 * `maxBytes` and whose length is at most `maxChars`, never between the halves of a surrogate
 * pair; at most `limit` pieces (the rest of the text is left out).
 */
export function splitForWire(text: string, maxBytes: number, maxChars = Infinity, limit = Infinity): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length && pieces.length < limit) {
    let bytes = 0;
    let end = start;
    while (end < text.length && end - start < maxChars) {
      const code = text.charCodeAt(end);
      const pair = code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(end + 1));
      const width = pair ? 2 : 1;
      const cost = pair ? 4 : charBytes(code);
      if (bytes + cost > maxBytes || end + width - start > maxChars) break;
      bytes += cost;
      end += width;
    }
    if (end === start) end = start + 1; // maxBytes below one character: make progress anyway
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** The size of `text` as a JSON string's content in UTF-8. */
export function jsonBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4;
      i++;
    } else bytes += charBytes(code);
  }
  return bytes;
}

/** One UTF-16 unit's bytes in a JSON string: escapes for quotes, backslash and controls; lone surrogates are escaped. */
function charBytes(code: number): number {
  if (code === 0x22 || code === 0x5c) return 2;
  if (code < 0x20) return code === 0x08 || code === 0x09 || code === 0x0a || code === 0x0c || code === 0x0d ? 2 : 6;
  if (code < 0x80) return 1;
  if (code < 0x800) return 2;
  if (code >= 0xd800 && code <= 0xdfff) return 6;
  return 3;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function formatSize(chars: number): string {
  return chars >= 1024 ? `${Math.round(chars / 1024)} KiB` : `${chars} characters`;
}
