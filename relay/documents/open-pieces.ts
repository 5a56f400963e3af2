import { ProtocolError } from '../../protocol';

/**
 * What one kept piece costs beyond its text: the array slot, the string's header, and the map
 * entry of its document. Counted so that empty pieces, or pieces for thousands of document ids,
 * cannot hold memory for free.
 */
const PIECE_OVERHEAD_BYTES = 64;

/** UTF-16 in memory: two bytes per code unit. */
const bytesOf = (text: string) => 2 * text.length;

/**
 * The initial texts one connection is uploading in pieces (`collaboration.open` with `more:
 * true`), per document, until the last piece. Bounded in bytes for the connection as a whole
 * (texts, document ids and a per-piece overhead: `maxBytes`) and in code units per document
 * (`maxLength`, the document size limit); the running totals make each piece O(1).
 */
export class OpenPieces {
  private readonly byDocument = new Map<string, { parts: string[]; length: number; bytes: number }>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly maxLength: number,
  ) {}

  /** Keeps a piece; over a bound, forgets the document's pieces and throws (the upload must start again). */
  keep(document: string, text: string): void {
    const entry = this.byDocument.get(document);
    const cost = bytesOf(text) + PIECE_OVERHEAD_BYTES + (entry ? 0 : bytesOf(document));
    if (this.bytes + cost > this.maxBytes) {
      this.take(document);
      throw new ProtocolError(
        'PENDING_PIECES_TOO_LARGE',
        `the pieces this connection has pending would take more than ${this.maxBytes} bytes`,
        'payload.text',
      );
    }
    if ((entry?.length ?? 0) + text.length > this.maxLength) {
      this.take(document);
      throw new ProtocolError(
        'DOCUMENT_TOO_LARGE',
        `the pieces of initial text add up to more than ${this.maxLength} code units`,
        'payload.text',
      );
    }
    if (entry) {
      entry.parts.push(text);
      entry.length += text.length;
      entry.bytes += cost;
    } else {
      this.byDocument.set(document, { parts: [text], length: text.length, bytes: cost });
    }
    this.bytes += cost;
  }

  /** The text of the pieces kept so far for `document`, if any (and forgets them). */
  take(document: string): string | undefined {
    const entry = this.byDocument.get(document);
    if (!entry) return undefined;
    this.byDocument.delete(document);
    this.bytes -= entry.bytes;
    return entry.parts.join('');
  }

  /** Bytes held now, all documents together. */
  get pendingBytes(): number {
    return this.bytes;
  }
}
