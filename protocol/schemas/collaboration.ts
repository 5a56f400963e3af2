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
