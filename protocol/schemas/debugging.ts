import { z } from 'zod';
import { ConnectionId, DocumentId, Identifier } from './common';

/**
 * Debugging together. The relay keeps each session's breakpoint set and where the host's debugger
 * is stopped (memory, or Redis shared by every relay), so a late joiner or a reconnecting client
 * gets the whole picture in one `debugging.state` right after `connect`.
 *
 * Order: every change the relay applies gets the session's next debug revision `rev`, and every
 * event carrying it says the state that change left (the breakpoint as it now is; the stopped
 * state). Events reach clients in order within one relay, but two relays may publish two changes
 * the other way round, so a client ignores an event whose `rev` is not newer than what it has for
 * that breakpoint (or for the stopped state), and `debugging.state` replaces everything up to its
 * `rev`. `DebugStateTracker` (protocol/client/debug-state.ts) does exactly that.
 *
 * Lines move with the text on the editors, not on the relay: each VS Code moves its breakpoints as
 * edits arrive, and the host's extension reports a moved breakpoint with `update`.
 */

/** The relay's revision of a session's debugging state: one counter for breakpoints and the stopped state. */
export const DebugRev = z.number().int().positive();

export const Breakpoint = z.strictObject({
  id: Identifier,
  document: DocumentId,
  /** Zero-based line, as in the VS Code API. */
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative().optional(),
  enabled: z.boolean(),
  condition: z.string().max(1000).optional(),
  hit_condition: z.string().max(1000).optional(),
  log_message: z.string().max(1000).optional(),
});
export type Breakpoint = z.infer<typeof Breakpoint>;

export const BreakpointAction = z.enum(['add', 'remove', 'update']);
export type BreakpointAction = z.infer<typeof BreakpointAction>;

/**
 * From a host or editor: `add` sets the breakpoint (an existing id is replaced), `update` replaces
 * one that exists (one removed meanwhile stays removed), `remove` removes it by `id`. A change that
 * changes nothing is not broadcast.
 */
export const BreakpointPayload = z.strictObject({
  action: BreakpointAction,
  breakpoint: Breakpoint,
});
export type BreakpointPayload = z.infer<typeof BreakpointPayload>;

/** To the whole session, the sender included: the change as applied, the breakpoint as it now is (removed: as it was). */
export const BreakpointChange = z.strictObject({
  action: BreakpointAction,
  breakpoint: Breakpoint,
  rev: DebugRev,
});
export type BreakpointChange = z.infer<typeof BreakpointChange>;

/** A place in a shared document (zero-based, as in the VS Code API). */
export const DebugLocation = z.strictObject({
  document: DocumentId,
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative(),
});
export type DebugLocation = z.infer<typeof DebugLocation>;

/** Hard bounds of the wire; the relay's DEBUG_MAX_STATE_BYTES bounds the whole. */
export const MAX_STACK_FRAMES = 100;
export const MAX_VARIABLES = 200;
export const MAX_VARIABLE_VALUE_LENGTH = 2000;

export const StackFrame = z.strictObject({
  name: z.string().max(500),
  /** Absent when the frame is not in a shared document (a library, native code). */
  document: DocumentId.optional(),
  line: z.number().int().nonnegative(),
  column: z.number().int().nonnegative(),
});
export type StackFrame = z.infer<typeof StackFrame>;

export const Variable = z.strictObject({
  name: z.string().max(500),
  /** As the debugger shows it; the host shortens longer values. */
  value: z.string().max(MAX_VARIABLE_VALUE_LENGTH),
  type: z.string().max(500).optional(),
});
export type Variable = z.infer<typeof Variable>;

/** Why the debugger stopped: the Debug Adapter Protocol's reasons, in snake case. */
export const StopReason = z.enum([
  'breakpoint',
  'step',
  'exception',
  'pause',
  'entry',
  'goto',
  'function_breakpoint',
  'data_breakpoint',
  'instruction_breakpoint',
  'other',
]);
export type StopReason = z.infer<typeof StopReason>;

const stoppedShape = {
  thread_id: z.number().int().nonnegative(),
  reason: StopReason,
  description: z.string().max(1000).optional(),
  /** Where the thread stopped; null when that is not in a shared document. */
  location: DebugLocation.nullable(),
  /** The stopped thread's call stack, innermost first (the host sends at most MAX_STACK_FRAMES). */
  frames: z.array(StackFrame).max(MAX_STACK_FRAMES),
  /** How many frames the stack has when `frames` is a part of it. */
  total_frames: z.number().int().nonnegative().optional(),
  /** The top frame's variables (its first scope), at most MAX_VARIABLES. */
  variables: z.array(Variable).max(MAX_VARIABLES),
};

/** From the host: its debugger stopped. */
export const StoppedPayload = z.strictObject(stoppedShape);
export type StoppedPayload = z.infer<typeof StoppedPayload>;

/** To everyone else, and in `debugging.state`: where the host is stopped, with the revision that set it. */
export const StoppedState = z.strictObject({ ...stoppedShape, rev: DebugRev });
export type StoppedState = z.infer<typeof StoppedState>;

/** From the host: its debugger runs again (`continued`) or the debug session ended (`ended`). */
export const ContinuedPayload = z.strictObject({
  reason: z.enum(['continued', 'ended']),
  thread_id: z.number().int().nonnegative().optional(),
});
export type ContinuedPayload = z.infer<typeof ContinuedPayload>;

/** To everyone else: the stopped state is gone; `host_left`: the relay cleared it when the host's last connection left. */
export const ContinuedChange = z.strictObject({
  reason: z.enum(['continued', 'ended', 'host_left']),
  thread_id: z.number().int().nonnegative().optional(),
  rev: DebugRev,
});
export type ContinuedChange = z.infer<typeof ContinuedChange>;

/** To one connection right after its `connect` (when the session has any debugging state): the whole of it. */
export const DebugStatePayload = z.strictObject({
  /** The revision this state is at: events with this `rev` or older are in it already. */
  rev: z.number().int().nonnegative(),
  breakpoints: z.array(Breakpoint),
  /** Where the host is stopped; null while it runs (or is not debugging). */
  stopped: StoppedState.nullable(),
});
export type DebugStatePayload = z.infer<typeof DebugStatePayload>;

export const DebugControlAction = z.enum(['continue', 'step_over', 'step_in', 'step_out', 'pause']);
export type DebugControlAction = z.infer<typeof DebugControlAction>;

/** From an editor: asks the host's debugger to act. The host decides whether guests may. */
export const DebugControlIn = z.strictObject({
  request_id: Identifier,
  action: DebugControlAction,
  /** The thread to act on; absent: the stopped one. */
  thread_id: z.number().int().nonnegative().optional(),
});
export type DebugControlIn = z.infer<typeof DebugControlIn>;

/** To the host's connection(s) only, with the asking connection. */
export const DebugControlOut = DebugControlIn.extend({ requester: ConnectionId });
export type DebugControlOut = z.infer<typeof DebugControlOut>;

/** The host's answer to a `debugging.control`, delivered to the `requester` only. */
export const DebugControlResult = z.strictObject({
  request_id: Identifier,
  requester: ConnectionId,
  /** false: the host did not do it (guest control is off, nothing is stopped, ...); `message` says why. */
  ok: z.boolean(),
  message: z.string().max(1000).optional(),
});
export type DebugControlResult = z.infer<typeof DebugControlResult>;
