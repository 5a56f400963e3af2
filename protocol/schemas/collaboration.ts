import { z } from 'zod';
import { DocumentId, Epoch, Identifier } from './common';

/**
 * One component of a text operation, in the JSON shape of the ottypes `text-unicode` type:
 * a positive number retains that many UTF-16 code units, a string inserts itself, and
 * `{ d: text }` deletes `text` (carried so the op can be inverted).
 */
export const OpComponent = z.union([z.number().int().positive(), z.string().min(1), z.strictObject({ d: z.string().min(1) })]);
type OpComponent = z.infer<typeof OpComponent>;

const MAX_OP_COMPONENTS = 10_000;

const COMPONENT_RULE = 'a component is a positive integer, a non-empty string or {d: "non-empty text"}';

/**
 * `OpComponent`'s rules (see `TextOp`): undefined if `c` is a component, else where it is wrong
 * below the component (as zod's union says it: an unknown key of a delete by its name).
 */
function componentIssue(c: unknown): { path: string[]; message: string } | undefined {
  if (typeof c === 'number') return Number.isSafeInteger(c) && c > 0 ? undefined : { path: [], message: COMPONENT_RULE };
  if (typeof c === 'string') return c.length > 0 ? undefined : { path: [], message: COMPONENT_RULE };
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return { path: [], message: COMPONENT_RULE };
  const extra = Object.keys(c).find((key) => key !== 'd');
  if (extra !== undefined) return { path: [extra], message: `unrecognized key "${extra}"` };
  const d: unknown = Object.hasOwn(c, 'd') ? (c as { d: unknown }).d : undefined;
  return typeof d === 'string' && d.length > 0 ? undefined : { path: [], message: COMPONENT_RULE };
}

/** The JSON Schema of one component, to describe `TextOp`'s items (without the document-level `$schema`). */
const componentJsonSchema: Record<string, unknown> = { ...z.toJSONSchema(OpComponent) };
delete componentJsonSchema.$schema;

/**
 * An op: up to 10,000 `OpComponent`s. The same rules as `z.array(OpComponent).max(10_000)`
 * (and the same JSON Schema, given in `meta`), checked by one plain loop instead: zod's union
 * costs about 0.4 µs per component, so an op of 10,000 took 2-4 ms to validate, and one client
 * sending them at the message rate could keep a relay's core busy (issue 11, item 3). Components
 * are passed through as they are (they are JSON values: nothing to copy or strip).
 */
export const TextOp = z
  .any()
  .check((ctx) => {
    const op: unknown = ctx.value;
    if (!Array.isArray(op)) return void ctx.issues.push({ code: 'custom', message: 'an op is an array of components', input: op });
    if (op.length > MAX_OP_COMPONENTS)
      return void ctx.issues.push({ code: 'custom', message: `an op has at most ${MAX_OP_COMPONENTS} components`, input: op });
    for (let i = 0; i < op.length; i++) {
      const issue = componentIssue(op[i]);
      if (!issue) continue;
      ctx.issues.push({ code: 'custom', message: issue.message, input: op[i], path: [i, ...issue.path] });
      return;
    }
  })
  .meta({ maxItems: MAX_OP_COMPONENTS, type: 'array', items: componentJsonSchema }) as unknown as z.ZodType<OpComponent[], OpComponent[]>;
export type TextOp = z.infer<typeof TextOp>;

export const EditPayload = z.strictObject({
  document: DocumentId,
  /** The document revision the op was made against. */
  rev: z.number().int().nonnegative(),
  /** Identifies the sending editor instance; with `seq` it makes resubmits idempotent. */
  client_id: Identifier,
  seq: z.number().int().nonnegative(),
  op: TextOp,
  /**
   * The document's epoch the op was made in (from the client; the relay does not send it). The
   * relay makes a new epoch each time it creates the document: another one than the client knows
   * means it lost the document and rebuilt it from its participants' copies, where revisions and
   * seqs of the old epoch mean nothing. An op of another epoch is never applied: the relay closes
   * the connection with `reconnect: true`, and the client's rejoin brings its edits back (see
   * `OpenPayload.recovery`).
   */
  epoch: Epoch.optional(),
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
  /** From the client: the epoch of `rev`; a cursor of another epoch is dropped. */
  epoch: Epoch.optional(),
});
export type CursorPayload = z.infer<typeof CursorPayload>;

/** A committed op as a rejoining client saw it (for `RecoveryPayload.history`). */
export const CommittedEntry = z.strictObject({
  rev: z.number().int().positive(),
  op: TextOp,
  /** Who committed it (the edit's `client_id` and `seq`), if the client knows. */
  client_id: Identifier.optional(),
  seq: z.number().int().nonnegative().optional(),
});
export type CommittedEntry = z.infer<typeof CommittedEntry>;

/**
 * What a rejoining client uploads so that the relay can rebuild a document it lost from the
 * participants' copies (`ClientDocument.rejoin` makes it). Ignored while the relay still has the
 * document in the client's epoch. Otherwise the relay merges, exactly where the ops allow: the
 * ops the client confirmed past what the document already holds (`history`), then its pending
 * edits, committed as one op with `seq`; the snapshot answering the open says how (`rebase`).
 */
export const RecoveryPayload = z.strictObject({
  /** The seq of the commit that brings these edits back; the same upload sent again is recognised by it. */
  seq: z.number().int().nonnegative(),
  /** The op sent and not acknowledged, with its seq: applies to the open's `text` (at `rev`). */
  outstanding: z.strictObject({ seq: z.number().int().nonnegative(), op: TextOp }).optional(),
  /** Local edits not sent yet: apply after `outstanding`. */
  buffer: TextOp.optional(),
  /** The last committed ops the client applied, oldest first, ending at the open's `rev`. */
  history: z.array(CommittedEntry).max(1000),
});
export type RecoveryPayload = z.infer<typeof RecoveryPayload>;

/** Joins a document of the session; only the session's host creates it (with `text`) if it is new. */
export const OpenPayload = z.strictObject({
  document: DocumentId,
  /**
   * The initial text if the document does not exist yet (default ''); ignored otherwise. A rejoin
   * with `epoch` sends the text it has at `rev` (confirmed, without pending edits): if the relay
   * lost the document, the host's rejoin recreates it from that (a guest's rejoin waits for it).
   */
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
  /**
   * With `rev` and `client_id`: the epoch `rev` belongs to. If the document's epoch is another one
   * (or the document is gone and this open recreates it), the relay lost its history: it merges
   * `recovery` into the document and answers with a snapshot flagged `reset`.
   */
  epoch: Epoch.optional(),
  /** With `epoch`: the client's copy (pending edits, last committed ops), merged only if the relay lost the document. */
  recovery: RecoveryPayload.optional(),
});
export type OpenPayload = z.infer<typeof OpenPayload>;

/** Leaves a document: no more of its edits and cursors (the editor closed it). */
export const ClosePayload = z.strictObject({ document: DocumentId });
export type ClosePayload = z.infer<typeof ClosePayload>;

/**
 * A text larger than a frame (or than the relay's outbound buffer) goes in pieces, as
 * `collaboration.open` does: each piece but the last has `more: true` and only `document`, `rev`,
 * its part of `text` (and a resync's `reason`); the last has every other field. The client concatenates the pieces of
 * one document in order (`protocol/client/snapshot-pieces.ts`; `RelayClient` does it for its
 * listeners, who see whole payloads only).
 */
const More = z.literal(true).optional();

/** The document as the relay has it at `rev`: the answer to `collaboration.open`. */
export const SnapshotPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative(),
  text: z.string(),
  /** The text continues in the next snapshot frame of this document (see `More`). */
  more: More,
  /** The last seq of the open's `client_id` (same user) committed to the document, if any. */
  last_seq: z.number().int().nonnegative().optional(),
  /** The document's epoch (always sent by this relay): send it with `rev` when rejoining. */
  epoch: Epoch.optional(),
  /**
   * The relay lost the history of the epoch the rejoin named and rebuilt the document (`text` at
   * `rev` of `epoch`), the rejoining client's uploaded edits included: the client adopts it
   * (`ClientDocument.reset`) instead of resending anything of the old epoch.
   */
  reset: z.literal(true).optional(),
  /** With `reset`: turns the client's text as of its rejoin (confirmed + pending) into `text`. */
  rebase: TextOp.optional(),
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
 * The op was not applied: the client adopts `text` at `rev` and rebases its pending edits onto it
 * (`ClientDocument.resync`). `history_trimmed`: the relay no longer has the history since the
 * op's base revision; `too_costly`: transforming it that far would cost more than the relay
 * allows one op or one connection (EDIT_MAX_TRANSFORM_COST, EDIT_TRANSFORM_COST_PER_SECOND).
 */
export const ResyncPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative(),
  text: z.string(),
  /**
   * `history_trimmed`: the op's base is older than the kept history; `too_costly`: transforming it
   * that far costs more than the relay allows; `diverged`: a `collaboration.check` found the
   * client's text differs. On every piece of a text sent in pieces (see `More`).
   */
  reason: z.enum(['history_trimmed', 'too_costly', 'diverged']),
  /** The text continues in the next resync frame of this document (see `More`). */
  more: More,
});
export type ResyncPayload = z.infer<typeof ResyncPayload>;

/**
 * The convergence check: at a quiet moment a client tells the relay what it believes the document
 * is at `rev` (length and `textHash`). If the relay's document at that revision differs, it
 * answers with `collaboration.resync` (`reason: 'diverged'`) and counts a repair; if it has moved
 * past `rev`, the check is ignored (the next quiet moment checks again). `repairs`: how many times
 * since its last check this client found its editor differing from its own copy and repaired it
 * (counted in the relay's stats).
 */
export const CheckPayload = z.strictObject({
  document: DocumentId,
  rev: z.number().int().nonnegative(),
  length: z.number().int().nonnegative(),
  hash: z.string().regex(/^[0-9a-f]{14}$/),
  epoch: Epoch.optional(),
  repairs: z.number().int().nonnegative().max(1000).optional(),
});
export type CheckPayload = z.infer<typeof CheckPayload>;
