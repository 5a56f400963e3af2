import { z } from 'zod';
import { ConnectionId } from './common';
import { RequestId } from './workspace';

/**
 * The host's shared terminals. The host's VS Code runs the shell; guests see its output live and,
 * only when the host grants it (`guests_can_type`) and only if they are editors, may type into it.
 * The relay routes and checks roles (a viewer's `terminal.input` is refused, only the host sends
 * output, the list and closes); the host checks again from its own state (who the sender is and
 * its current role) before anything reaches the shell: a guest's word is never taken for it.
 *
 * Output travels in order, each piece numbered (`seq` 1, 2, ... per terminal). The host keeps the
 * recent output (its scrollback) and sends it, in pieces, to a guest that asks (`terminal.request`
 * with a `terminal_id`, `since_seq` what it has already): a late joiner and a reconnecting guest
 * catch up without the relay keeping anything.
 */

/** A terminal's id, chosen by the host. */
export const TerminalId = z.string().regex(/^[\w-]{1,64}$/u, 'must be 1-64 letters, digits, _ or -');

/** A piece of terminal text: the host cuts its output so that a frame stays well under the frame limit. */
export const TERMINAL_LIMITS = {
  /** The longest `data` of an output or scrollback piece (UTF-16 code units; the host also keeps its JSON under 16 KiB). */
  outputChars: 16_384,
  /** The longest `data` of a guest's input (a paste is split by the guest). */
  inputChars: 4096,
  /** The most terminals a host shares at once. */
  terminals: 10,
} as const;

const Seq = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const SharedTerminal = z.strictObject({
  terminal_id: TerminalId,
  /** What the host calls it (its shell's name, or one the host chose). */
  name: z.string().min(1).max(100),
  /** The host lets editors type into it (viewers never may). */
  guests_can_type: z.boolean(),
});
export type SharedTerminal = z.infer<typeof SharedTerminal>;

/**
 * From the host: every terminal it shares now (an empty list: none). To everyone else after each
 * change (shared, granted, revoked, stopped), or with `requester`, to that connection only: the
 * answer to a `terminal.request` without `terminal_id`.
 */
export const TerminalSharedPayload = z.strictObject({
  terminals: z.array(SharedTerminal).max(TERMINAL_LIMITS.terminals),
  requester: ConnectionId.optional(),
});
export type TerminalSharedPayload = z.infer<typeof TerminalSharedPayload>;

/** From the host, to everyone else: the terminal's next piece of output. */
export const TerminalOutputPayload = z.strictObject({
  terminal_id: TerminalId,
  seq: Seq.min(1),
  data: z.string().min(1).max(TERMINAL_LIMITS.outputChars),
});
export type TerminalOutputPayload = z.infer<typeof TerminalOutputPayload>;

/**
 * From a guest: without `terminal_id`, which terminals the host shares (answered by
 * `terminal.shared` with `requester`); with one, its recent output after `since_seq` (answered by
 * `terminal.scrollback` pieces). To the host with the `requester` added.
 */
export const TerminalRequestIn = z.strictObject({
  request_id: RequestId,
  terminal_id: TerminalId.optional(),
  since_seq: Seq.optional(),
});
export type TerminalRequestIn = z.infer<typeof TerminalRequestIn>;

export const TerminalRequestOut = TerminalRequestIn.extend({ requester: ConnectionId });
export type TerminalRequestOut = z.infer<typeof TerminalRequestOut>;

/**
 * From the host, to the `requester` only: one piece of the output it kept after the asked
 * `since_seq`, up to the piece numbered `seq`. `gap`: older output the guest had not seen was
 * no longer kept; `done`: the last piece of this answer (its `data` may be empty).
 */
export const TerminalScrollbackPayload = z.strictObject({
  request_id: RequestId,
  requester: ConnectionId,
  terminal_id: TerminalId,
  seq: Seq,
  data: z.string().max(TERMINAL_LIMITS.outputChars),
  gap: z.boolean(),
  done: z.boolean(),
});
export type TerminalScrollbackPayload = z.infer<typeof TerminalScrollbackPayload>;

/** From an editor: what they typed into a shared terminal. The host decides whether its shell gets it. */
export const TerminalInputIn = z.strictObject({
  terminal_id: TerminalId,
  data: z.string().min(1).max(TERMINAL_LIMITS.inputChars),
});
export type TerminalInputIn = z.infer<typeof TerminalInputIn>;

/** To the host: the input with the connection that typed it (the envelope's `user_id` is the typist's). */
export const TerminalInputOut = TerminalInputIn.extend({ sender: ConnectionId });
export type TerminalInputOut = z.infer<typeof TerminalInputOut>;

/** From the host, to everyone else: the terminal is no longer shared (the host stopped sharing it, or its shell exited). */
export const TerminalClosedPayload = z.strictObject({
  terminal_id: TerminalId,
  reason: z.enum(['stopped', 'exited']),
  /** The shell's exit code, when it exited. */
  exit_code: z
    .number()
    .int()
    .min(-(2 ** 31))
    .max(2 ** 32 - 1)
    .optional(),
});
export type TerminalClosedPayload = z.infer<typeof TerminalClosedPayload>;
