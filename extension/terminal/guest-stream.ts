import type { OutputPiece } from './scrollback-buffer';

/** What a guest's terminal writes when the host no longer kept some of the output it missed. */
export const MISSED_NOTICE = '\r\n\x1b[2m[Tandem: some earlier output was not kept by the host]\x1b[0m\r\n';

/**
 * A guest's view of one shared terminal's output, in order and once: live pieces (`seq` 1, 2, ...)
 * and the host's scrollback answers. While a catch-up is under way live pieces are held, then
 * those the scrollback did not cover are written; a live piece that skips numbers asks for a
 * catch-up. Pure: it only calls `write`.
 */
export class GuestStream {
  private last = 0;
  private catchup: { requestId: string; held: OutputPiece[]; first: boolean } | undefined;

  constructor(private readonly write: (text: string) => void) {}

  get lastSeq(): number {
    return this.last;
  }

  /** Whether a catch-up is under way. */
  get catchingUp(): boolean {
    return this.catchup !== undefined;
  }

  /** A catch-up was asked for as `requestId`: returns the `since_seq` to ask with. */
  beginCatchup(requestId: string): number {
    const held = this.catchup?.held ?? [];
    this.catchup = { requestId, held, first: true };
    return this.last;
  }

  /** A live piece. Returns true when pieces were missed (the caller asks for a catch-up). */
  onOutput(piece: OutputPiece): boolean {
    if (this.catchup) {
      this.catchup.held.push(piece);
      return false;
    }
    if (piece.seq <= this.last) return false;
    const missed = piece.seq > this.last + 1;
    if (missed) {
      this.catchup = { requestId: '', held: [piece], first: true };
      return true;
    }
    this.write(piece.data);
    this.last = piece.seq;
    return false;
  }

  /** One piece of a scrollback answer; those of another (older) request are ignored. */
  onScrollback(answer: { request_id: string; seq: number; data: string; gap: boolean; done: boolean }): void {
    const catchup = this.catchup;
    if (!catchup || catchup.requestId !== answer.request_id) return;
    if (catchup.first && answer.gap && this.last > 0) this.write(MISSED_NOTICE);
    catchup.first = false;
    if (answer.data.length > 0 && answer.seq > this.last) this.write(answer.data);
    this.last = Math.max(this.last, answer.seq);
    if (answer.done) this.endCatchup();
  }

  /** The answer will not come (no host, a timeout): writes what was held, in order. */
  endCatchup(): void {
    const held = this.catchup?.held ?? [];
    this.catchup = undefined;
    for (const piece of held.sort((a, b) => a.seq - b.seq)) {
      if (piece.seq <= this.last) continue;
      this.write(piece.data);
      this.last = piece.seq;
    }
  }
}

/**
 * What a guest's terminal answers by itself, not the user: replies to the host program's queries
 * (device attributes, cursor position, modes, colours) and focus reports. The host's own terminal
 * answers those already; a guest's copy must not answer twice into the host's shell, nor count
 * as typing in a read-only terminal.
 */
// eslint-disable-next-line no-control-regex -- escape sequences are exactly what this matches
const TERMINAL_REPORTS = /\x1b\[[?>][\d;]*c|\x1b\[\d+;\d+R|\x1b\[[IO]|\x1b\[\??[\d;]*\$y|\x1b\][\d;]*[^\x07\x1b]*(?:\x07|\x1b\\)/g;

export function withoutTerminalReports(data: string): string {
  return data.replace(TERMINAL_REPORTS, '');
}
