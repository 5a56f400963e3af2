import { z } from 'zod';
import { DocumentId, Identifier } from './common';

/**
 * One component of a text operation, in the JSON shape of the ottypes `text-unicode` type:
 * a positive number retains that many UTF-16 code units, a string inserts itself, and
 * `{ d: text }` deletes `text` (carried so the op can be inverted).
 */
export const OpComponent = z.union([
  z.number().int().positive(),
  z.string().min(1),
  z.strictObject({ d: z.string().min(1) }),
]);
export const TextOp = z.array(OpComponent).max(10_000);
export type TextOp = z.infer<typeof TextOp>;

export const EditPayload = z.strictObject({
  document: DocumentId,
  /** The document revision the op was made against. */
  rev: z.number().int().nonnegative(),
  /** Identifies the sending editor instance; with `seq` it makes resubmits idempotent. */
  client_id: Identifier,
  seq: z.number().int().nonnegative(),
  op: TextOp,
});
export type EditPayload = z.infer<typeof EditPayload>;

export const Selection = z.strictObject({
  anchor: z.number().int().nonnegative(),
  head: z.number().int().nonnegative(),
});

export const CursorPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative().optional(),
  selections: z.array(Selection).min(1).max(100),
});
export type CursorPayload = z.infer<typeof CursorPayload>;

/** Joins a document of the session; a host or editor creates it (with `text`) if it is new. */
export const OpenPayload = z.strictObject({
  document: DocumentId,
  /** The initial text if the document does not exist yet (default ''); ignored otherwise. */
  text: z.string().max(10_000_000).optional(),
  /**
   * The initial text continues in the next `collaboration.open` of this document (a large file
   * does not fit in one frame): the relay concatenates the pieces in order and answers the last.
   */
  more: z.boolean().optional(),
  /**
   * `false`: only join; if the document does not exist, answer DOCUMENT_NOT_FOUND instead of
   * creating it empty (a guest opening a file the host has not shared yet).
   */
  create: z.boolean().optional(),
  /**
   * Rejoining (after a reconnect): the revision the client has. If the relay still keeps the
   * history since, it first sends the ops committed after it as `collaboration.edit` frames to
   * this connection (the client's own among them: it takes those as acks), then the snapshot.
   */
  rev: z.number().int().nonnegative().optional(),
  /** With `rev`: the client's id, so that the snapshot says which of its ops were committed (`last_seq`). */
  client_id: Identifier.optional(),
});
export type OpenPayload = z.infer<typeof OpenPayload>;

/** Leaves a document: no more of its edits and cursors (the editor closed it). */
export const ClosePayload = z.strictObject({ document: DocumentId });
export type ClosePayload = z.infer<typeof ClosePayload>;

/** The document as the relay has it at `rev`: the answer to `collaboration.open`. */
export const SnapshotPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative(),
  text: z.string(),
  /** The last seq of the open's `client_id` (same user) committed to the document, if any. */
  last_seq: z.number().int().nonnegative().optional(),
});
export type SnapshotPayload = z.infer<typeof SnapshotPayload>;

/** The relay committed the sender's op (`client_id`, `seq`) at revision `rev`. */
export const AckPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().positive(),
  client_id: Identifier,
  seq: z.number().int().nonnegative(),
});
export type AckPayload = z.infer<typeof AckPayload>;

/**
 * The relay no longer has the history since the op's base revision: the client adopts `text` at
 * `rev` and rebases its pending edits onto it (`ClientDocument.resync`). The op was not applied.
 */
export const ResyncPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative(),
  text: z.string(),
  reason: z.enum(['history_trimmed']),
});
export type ResyncPayload = z.infer<typeof ResyncPayload>;
