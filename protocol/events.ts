import type { z } from 'zod';
import { AiCancelPayload, AiRequestIn, AiRequestOut, AiResponsePayload } from './schemas/ai';
import { ChatMessageIn, ChatMessageOut, ChatTypingIn, ChatTypingOut } from './schemas/chat';
import {
  AckPayload,
  CheckPayload,
  ClosePayload,
  CursorPayload,
  EditPayload,
  OpenPayload,
  ResyncPayload,
  SnapshotPayload,
} from './schemas/collaboration';
import { Participant } from './schemas/common';
import {
  BreakpointChange,
  BreakpointPayload,
  ContinuedChange,
  ContinuedPayload,
  DebugControlIn,
  DebugControlOut,
  DebugControlResult,
  DebugStatePayload,
  StoppedPayload,
  StoppedState,
} from './schemas/debugging';
import { LanguageDiagnosticsPayload, LanguageRequestIn, LanguageRequestOut, LanguageResponse } from './schemas/language';
import { MetricsAggregates, OperatorSubscribe, OperatorUnsubscribe } from './schemas/operator';
import { FocusPayload, FocusRequest, JoinRequestPayload, RoleChangedPayload } from './schemas/session';
import { ConnectPayload, DisconnectPayload, ErrorPayload, NotificationPayload, PingPayload, PongPayload } from './schemas/system';
import {
  TunnelAckIn,
  TunnelAckOut,
  TunnelCloseIn,
  TunnelCloseOut,
  TunnelDataIn,
  TunnelDataOut,
  TunnelOpenedPayload,
  TunnelOpenIn,
  TunnelOpenOut,
  TunnelSharedPayload,
} from './schemas/tunnel';
import {
  TerminalClosedPayload,
  TerminalInputIn,
  TerminalInputOut,
  TerminalOutputPayload,
  TerminalRequestIn,
  TerminalRequestOut,
  TerminalScrollbackPayload,
  TerminalSharedPayload,
} from './schemas/terminal';
import { WorkspaceChangedPayload, WorkspaceRequestIn, WorkspaceRequestOut, WorkspaceResponse } from './schemas/workspace';

/**
 * The event catalog: every event on the wire, its direction and its payload schemas.
 * `client` is what a client may send (absent: server-only), `server` what the relay sends
 * (absent: client-only). This object is the single source of truth for the wire.
 */
export const events = {
  connect: { server: ConnectPayload, description: 'Sent once the connection is established.' },
  disconnect: { server: DisconnectPayload, description: 'Sent before the relay closes the connection.' },
  error: { server: ErrorPayload, description: 'A frame was refused; nothing else happened.' },
  'chat.message': { client: ChatMessageIn, server: ChatMessageOut, description: 'Chat message.' },
  'chat.typing': {
    client: ChatTypingIn,
    server: ChatTypingOut,
    description: 'Someone is writing a chat message (`typing`), to the others in the session; never logged.',
  },
  'collaboration.open': {
    client: OpenPayload,
    description:
      'Join a document of the session (only the session’s host creates it, with `text`, if new); answered by `collaboration.snapshot`.',
  },
  'collaboration.close': {
    client: ClosePayload,
    description: 'Leave a document: its edits and cursors stop coming (the editor closed it).',
  },
  'collaboration.snapshot': { server: SnapshotPayload, description: 'A document’s text and revision: the answer to `collaboration.open`.' },
  'collaboration.edit': {
    client: EditPayload,
    server: EditPayload,
    description: 'Code edit operation: from a client, an op made against `rev`; from the relay, an op committed at revision `rev`.',
  },
  'collaboration.ack': {
    server: AckPayload,
    description: 'To the sender only: its op (`client_id`, `seq`) was committed at revision `rev`.',
  },
  'collaboration.resync': {
    server: ResyncPayload,
    description:
      'The op’s base revision is older than the kept history, or a check found the client’s text differs: adopt `text` at `rev`, ' +
      'rebase pending edits.',
  },
  'collaboration.check': {
    client: CheckPayload,
    description:
      'At a quiet moment: the length and hash of the text the client has at `rev`; a difference is answered by `collaboration.resync` ' +
      '(`diverged`).',
  },
  'collaboration.cursor': { client: CursorPayload, server: CursorPayload, description: 'Cursor position update.' },
  'system.notification': { server: NotificationPayload, description: 'System notification.' },
  'system.ping': { client: PingPayload, description: 'Application-level liveness probe.' },
  'system.pong': { server: PongPayload, description: 'Answer to `system.ping`.' },
  'session.joined': { server: Participant, description: 'Someone joined the session.' },
  'session.left': { server: Participant, description: 'Someone left the session.' },
  'session.join_request': {
    server: JoinRequestPayload,
    description:
      'To the host only: a guest waits for approval to join (an invite with `approval`); answer with POST ' +
      '/api/sessions/ID/join-requests/REQUEST_ID.',
  },
  'session.role_changed': {
    server: RoleChangedPayload,
    description:
      'To everyone in the session: the host made a guest an `editor` or a `viewer` (PATCH /api/sessions/ID/participants/USER_ID); ' +
      'the relay enforces the new role from then on.',
  },
  'session.focus': {
    client: FocusRequest,
    server: FocusPayload,
    description: 'From the host only: ask everyone to follow the host; to the others, the host to follow.',
  },
  'ai.request': {
    client: AiRequestIn,
    server: AiRequestOut,
    description:
      'Ask the relay’s AI model (`prompt`, optional `context`); to everyone in the session, the question with the asker’s ' +
      '`display_name` and the `model`, before its answer’s chunks.',
  },
  'ai.cancel': { client: AiCancelPayload, description: 'Stop a running answer (its asker or the session’s host).' },
  'ai.response': {
    server: AiResponsePayload,
    description: 'AI response chunk, to everyone in the session: `index` 0, 1, ...; the last has `done`, `outcome` and the whole `text`.',
  },
  'debugging.breakpoint': {
    client: BreakpointPayload,
    server: BreakpointChange,
    description:
      'Debugging breakpoint event: from a host or editor, `add`, `update` or `remove`; from the relay, to the whole session, the ' +
      'change as applied to the session’s breakpoint set, at revision `rev`.',
  },
  'debugging.state': {
    server: DebugStatePayload,
    description: 'To one connection right after `connect`: the session’s breakpoints and where the host is stopped, at revision `rev`.',
  },
  'debugging.stopped': {
    client: StoppedPayload,
    server: StoppedState,
    description: 'The host’s debugger stopped: thread, reason, location, call stack and the top frame’s variables (host only).',
  },
  'debugging.continued': {
    client: ContinuedPayload,
    server: ContinuedChange,
    description: 'The host’s debugger runs again or its debug session ended (host only); the relay sends `host_left` when the host leaves.',
  },
  'debugging.control': {
    client: DebugControlIn,
    server: DebugControlOut,
    description: 'From an editor: continue, step or pause the host’s debugger; to the host’s connection with the `requester` added.',
  },
  'debugging.control_result': {
    client: DebugControlResult,
    server: DebugControlResult,
    description: 'The host’s answer to a `debugging.control`, delivered to the `requester` only.',
  },
  'workspace.request': {
    client: WorkspaceRequestIn,
    server: WorkspaceRequestOut,
    description: 'A file operation on the host’s shared folder: from a guest; to the host’s connection with the `requester` added.',
  },
  'workspace.response': {
    client: WorkspaceResponse,
    server: WorkspaceResponse,
    description: 'The host’s answer to a `workspace.request` (one piece of it when chunked), delivered to the `requester` only.',
  },
  'workspace.changed': {
    client: WorkspaceChangedPayload,
    server: WorkspaceChangedPayload,
    description: 'Files changed in the host’s shared folder (host only).',
  },
  'language.request': {
    client: LanguageRequestIn,
    server: LanguageRequestOut,
    description:
      'A language feature of the host’s VS Code on a shared file (hover, completion, definition, ...) or `cancel` of an earlier one: ' +
      'from a guest; to the host’s connection with the `requester` added.',
  },
  'language.response': {
    client: LanguageResponse,
    server: LanguageResponse,
    description: 'The host’s answer to a `language.request`, delivered to the `requester` only.',
  },
  'language.diagnostics': {
    client: LanguageDiagnosticsPayload,
    server: LanguageDiagnosticsPayload,
    description: 'The host’s diagnostics (problems) of shared files changed: to everyone else in the session (host only).',
  },
  'tunnel.shared': {
    client: TunnelSharedPayload,
    server: TunnelSharedPayload,
    description: 'The host’s shared servers, the whole list (host only): to everyone else, on every change and when someone joins.',
  },
  'tunnel.open': {
    client: TunnelOpenIn,
    server: TunnelOpenOut,
    description:
      'A guest’s new stream (`stream_id`, its choice) to a shared server (`share_id`): to the host’s connection with `requester` added; ' +
      'at most TUNNEL_MAX_STREAMS_PER_CONNECTION open per connection.',
  },
  'tunnel.opened': {
    client: TunnelOpenedPayload,
    server: TunnelOpenedPayload,
    description: 'The host connected the stream to its server (host only), to the `requester` only.',
  },
  'tunnel.data': {
    client: TunnelDataIn,
    server: TunnelDataOut,
    description:
      'Bytes of a stream (base64, at most 32 KiB raw): a guest’s to the host, the host’s to the `requester` only; counted against ' +
      'TUNNEL_SESSION_BYTES_PER_MINUTE.',
  },
  'tunnel.ack': {
    client: TunnelAckIn,
    server: TunnelAckOut,
    description:
      'Credit: the reader wrote `bytes` more of the stream to its socket, so the sender may send as much more (routed as `tunnel.data`).',
  },
  'tunnel.close': {
    client: TunnelCloseIn,
    server: TunnelCloseOut,
    description: 'The stream is over, with a `reason` (routed as `tunnel.data`); a guest sends one for every stream it opened.',
  },
  'terminal.shared': {
    client: TerminalSharedPayload,
    server: TerminalSharedPayload,
    description:
      'The terminals the host shares now, each with whether editors may type in it (host only): to everyone else after each change, ' +
      'or with `requester` to that connection only (the answer to `terminal.request` without `terminal_id`).',
  },
  'terminal.output': {
    client: TerminalOutputPayload,
    server: TerminalOutputPayload,
    description: 'The next piece (`seq`) of a shared terminal’s output (host only), to everyone else.',
  },
  'terminal.request': {
    client: TerminalRequestIn,
    server: TerminalRequestOut,
    description:
      'From a guest: the host’s shared terminals, or one terminal’s recent output after `since_seq`; to the host’s connection with ' +
      'the `requester` added.',
  },
  'terminal.scrollback': {
    client: TerminalScrollbackPayload,
    server: TerminalScrollbackPayload,
    description:
      'The host’s answer to a `terminal.request` for a terminal’s output, in pieces (the last has `done`), to the `requester` only.',
  },
  'terminal.input': {
    client: TerminalInputIn,
    server: TerminalInputOut,
    description:
      'From an editor (never a viewer): keys typed into a shared terminal; to the host’s connection with the `sender` added. The host ' +
      'passes it to its shell only if it granted typing and the sender is an editor by its own account.',
  },
  'terminal.closed': {
    client: TerminalClosedPayload,
    server: TerminalClosedPayload,
    description: 'A shared terminal ended (host only), to everyone else: the host stopped sharing it, or its shell exited.',
  },
  'operator.subscribe': {
    client: OperatorSubscribe,
    description:
      'On an operator connection (a token minted with `relay token --operator`): receive `operator.metrics` about every second; ' +
      'anyone else gets OPERATOR_ONLY.',
  },
  'operator.unsubscribe': { client: OperatorUnsubscribe, description: 'On an operator connection: stop receiving `operator.metrics`.' },
  'operator.metrics': {
    server: MetricsAggregates,
    description: 'To subscribed operators, about every second: the live aggregates, as `GET /api/metrics` answers them.',
  },
} as const;

export type EventCatalog = typeof events;
export type EventType = keyof EventCatalog;

type SchemaOf<E, K extends 'client' | 'server'> = E extends Record<K, infer S extends z.ZodType> ? S : never;

/** Events a client may send, and their payload types. */
export type ClientEventType = { [E in EventType]: EventCatalog[E] extends { client: z.ZodType } ? E : never }[EventType];
/** Events the relay sends, and their payload types. */
export type ServerEventType = { [E in EventType]: EventCatalog[E] extends { server: z.ZodType } ? E : never }[EventType];

export type ClientPayload<E extends ClientEventType> = z.infer<SchemaOf<EventCatalog[E], 'client'>>;
export type ServerPayload<E extends ServerEventType> = z.infer<SchemaOf<EventCatalog[E], 'server'>>;

export function isEventType(name: string): name is EventType {
  return Object.prototype.hasOwnProperty.call(events, name);
}
