import {
  type AckPayload,
  type CursorPayload,
  type EditPayload,
  encodeServerFrame,
  ProtocolError,
  type ResyncPayload,
  textPieces,
} from '../../protocol';
import type { CommitHere } from '../documents/commit-forwarding';
import { type CommitResult, DocumentLostError } from '../documents/document-authority';
import type { CommitPublication } from '../documents/document-store';
import { OpenPieces } from '../documents/open-pieces';
import { CostBudget } from '../documents/transform-cost';
import type { Connection } from '../gateway/connection';
import { type OutboundFrame, sendPaced } from '../gateway/paced-send';
import type { Handler } from '../routing/router';
import type { HandlerContext } from './context';

/** Initial texts arriving in pieces (`more: true`), per connection, until the last piece (open-pieces.ts). */
const pieces = new WeakMap<Connection, OpenPieces>();

function piecesOf(context: HandlerContext, connection: Connection): OpenPieces {
  let kept = pieces.get(connection);
  if (!kept) pieces.set(connection, (kept = new OpenPieces(context.limits.maxPendingPieceBytes, context.documents.maxLength)));
  return kept;
}

/** Each connection's budget of transform work (edits and cursors at old revisions), made on first use. */
const budgets = new WeakMap<Connection, CostBudget>();

function afford(context: HandlerContext, connection: Connection): (cost: number) => boolean {
  return (cost) => {
    let budget = budgets.get(connection);
    if (!budget) budgets.set(connection, (budget = context.documents.transformBudget()));
    return budget.spend(cost);
  };
}

/** Per connection and document, how many texts (snapshots, resyncs) are on their way in pieces. */
const inFlight = new WeakMap<Connection, Map<string, number>>();

/**
 * Sends a document's snapshot or resync (with a catch-up before it) paced to the connection's
 * reading, in pieces within the frame limit: a document larger than the outbound buffer can be
 * opened, and the relay never holds more than half a buffer of it in the socket. The document's
 * live publications for the connection are held by the hub until the last text has gone (the
 * open's `join` holds them; here for a resync), so no edit overtakes the text it follows.
 */
function sendText(
  context: HandlerContext,
  connection: Connection,
  document: string,
  frames: Iterable<OutboundFrame>,
  resync = false,
): void {
  let counts = inFlight.get(connection);
  if (!counts) inFlight.set(connection, (counts = new Map()));
  counts.set(document, (counts.get(document) ?? 0) + 1);
  // (Not for a document the connection closed meanwhile: holding would subscribe it again.)
  if (resync && connection.openDocuments.has(document)) void context.hub.joinDocument(connection, document).catch(() => undefined);
  const done = () => {
    const left = (counts.get(document) ?? 1) - 1;
    if (left > 0) return void counts.set(document, left);
    counts.delete(document);
    context.hub.documentReady(connection, document);
  };
  // A newer resync of the document replaces one still waiting (paced-send.ts).
  sendPaced(connection, frames, done, resync ? `resync\u0000${document}` : undefined);
}

/** A resync in pieces, paced, replacing one of the same document still waiting (see `sendText`). */
function sendResync(context: HandlerContext, connection: Connection, resync: ResyncPayload): void {
  const pieces = textPieces(resync, pieceBytes(connection));
  sendText(
    context,
    connection,
    resync.document,
    (function* (): Generator<OutboundFrame> {
      for (const piece of pieces) yield ['collaboration.resync', piece];
    })(),
    true,
  );
}

/** The largest frame of a text for this connection: within the frame limit and half its outbound buffer. */
function pieceBytes(connection: Connection): number {
  return Math.min(connection.maxFrameBytes, connection.maxBufferedBytes / 2);
}

/** Whom a commit is made for: a connection here, or one on another relay that forwarded its edit. */
interface Sender {
  sessionId: string;
  userId: string;
  /** The connection's id (unique across relays). */
  id: string;
}

/**
 * The publication of a commit made for `sender` (an edit, or the merge of its copy when it
 * rejoins a rebuilt document): the others get the edit, the sender the ack in its place (`echo`),
 * so the ack can never overtake an earlier revision on any relay.
 */
function announcer(
  context: HandlerContext,
  sender: Sender,
  document: string,
): (committed: EditPayload, ack: AckPayload) => CommitPublication {
  const envelope = { userId: sender.userId, sessionId: sender.sessionId };
  return (committed, ack) =>
    context.hub.documentPublication(
      sender.sessionId,
      document,
      {
        eventType: 'collaboration.edit',
        data: encodeServerFrame('collaboration.edit', committed, envelope),
        echo: { eventType: 'collaboration.ack', data: encodeServerFrame('collaboration.ack', ack, envelope) },
      },
      { exclude: sender.id },
    );
}

/**
 * Joins a document of the session and answers with its snapshot; from then on the connection
 * gets the document's edits and cursors. Only the session's host creates it (with `text`) if it
 * is new, a rejoin that recreates a lost one included; a guest can only join an existing one.
 * A document's text becomes the text of the host's file: a guest that could create one (say for
 * `.vscode/tasks.json`, before the host opens that file) would choose what the host's editor
 * holds and a save writes. The extension never shares a file that is read-only for guests as a
 * document, so no document of one exists for a guest to edit. A client rejoining with the
 * revision it has first gets the ops it missed, if the history since is still kept. One
 * rejoining with an epoch the document no longer has (the relay lost its history) gets its
 * uploaded copy merged and a snapshot flagged `reset` (document-authority.ts `recover`).
 */
export function openHandler(context: HandlerContext): Handler<'collaboration.open'> {
  return {
    handle: async (connection, { payload }) => {
      if (payload.more) {
        // A viewer's pieces too: it never creates a document, but a rejoin sends its copy's text,
        // which tells the relay how to bring it to a rebuilt document (`rebase`).
        piecesOf(context, connection).keep(payload.document, payload.text ?? '');
        return;
      }
      const wasOpen = connection.openDocuments.has(payload.document);
      if (!wasOpen && connection.openDocuments.size >= context.limits.maxOpenPerConnection) {
        throw new ProtocolError(
          'TOO_MANY_DOCUMENTS',
          `a connection may have ${context.limits.maxOpenPerConnection} documents open; close one first`,
          'payload.document',
        );
      }
      const earlier = pieces.get(connection)?.take(payload.document);
      const request = {
        document: payload.document,
        text: earlier === undefined ? payload.text : earlier + (payload.text ?? ''),
        mayCreate: connection.role === 'host' && payload.create !== false,
        mayWrite: connection.role !== 'viewer',
        rev: payload.rev,
        clientId: payload.client_id,
        epoch: payload.epoch,
        recovery: payload.recovery,
      };
      // Open at once, not when the open's turn in the document's queue comes: an edit sent right
      // behind the open (a client resending after a reconnect) is accepted, and queued after it.
      connection.openDocuments.add(payload.document);
      try {
        await context.documents.open(connection.sessionId, connection.userId, request, {
          // From here the document's publications for this connection wait in the hub: a commit
          // made by another relay meanwhile must not reach the client before the snapshot.
          join: () => context.hub.joinDocument(connection, payload.document),
          send: ({ missed, snapshot }) => {
            const bytes = pieceBytes(connection);
            function* frames(): Generator<OutboundFrame> {
              for (const edit of missed) yield ['collaboration.edit', edit];
              for (const piece of textPieces(snapshot, bytes)) yield ['collaboration.snapshot', piece];
            }
            sendText(context, connection, payload.document, frames());
          },
          announce: announcer(context, connection, payload.document),
          forked: () => context.hub.documentForkNotice(connection.sessionId, payload.document, connection.id),
        });
      } catch (error) {
        if (wasOpen) context.hub.documentReady(connection, payload.document);
        else context.hub.leaveDocument(connection, payload.document);
        // The store failed (Redis unreachable): no snapshot will come; rejoining later will do.
        if (!(error instanceof ProtocolError))
          connection.disconnect('server_error', 'the document could not be read; reconnect and open it again', true);
        throw error;
      }
    },
  };
}

/** Stops getting a document's edits and cursors (the editor closed it). */
export function closeHandler(context: HandlerContext): Handler<'collaboration.close'> {
  return {
    handle: (connection, { payload }) => {
      context.hub.leaveDocument(connection, payload.document);
    },
  };
}

/**
 * An op goes through the document authority. Committed, it is published on the document's
 * channel with its revision (`announcer`). The store publishes it as part of the commit, so
 * publications follow revision order across relays too. An op based on a revision older than the
 * kept history gets a resync instead.
 *
 * When the store fails (Redis unreachable, a reply that never came), the op may or may not have
 * been committed, and no ack will come: the connection is closed with `reconnect: true`, and the
 * client's rejoin (its revision and client id) tells it which of its ops were committed (during
 * a declared outage, that reconnect comes when Redis is back; until then BROKER_UNAVAILABLE). An op of
 * an epoch the document no longer has (its history was lost) is not applied, and the connection
 * is closed the same way: the client's rejoin uploads its copy, edits included, to be merged.
 */
export function editHandler(context: HandlerContext): Handler<'collaboration.edit'> {
  return {
    roles: ['host', 'editor'],
    handle: async (connection, { payload }) => {
      requireOpen(connection, payload.document);
      const timings = context.hub.stats.timings;
      const started = timings.enabled ? performance.now() : 0;
      try {
        await context.documents.commit(connection.sessionId, connection.userId, payload, {
          announce: announcer(context, connection, payload.document),
          reply: (result) => {
            // A resubmit of an op committed before is acknowledged, not applied again.
            if (result.kind !== 'resync') return void connection.send('collaboration.ack', result.ack);
            sendResync(context, connection, result.resync);
          },
          afford: afford(context, connection),
          forked: () => context.hub.documentForkNotice(connection.sessionId, payload.document, connection.id),
          sender: { userId: connection.userId, connectionId: connection.id },
        });
        if (timings.enabled) timings.editAck((performance.now() - started) / 1000);
      } catch (error) {
        if (error instanceof DocumentLostError) {
          connection.disconnect('server_error', 'the relay lost the document’s history; reconnect and rejoin it with your copy', true);
          return;
        }
        // During a declared Redis outage the client keeps its connection (cursors still flow here)
        // and gets BROKER_UNAVAILABLE; its op stays unconfirmed until the reconnect that every
        // client is asked for when Redis is back, whose rejoin says whether it was committed.
        const outage = !context.hub.availability.available && context.hub.availability.isUnavailableError(error);
        if (!(error instanceof ProtocolError) && !outage)
          connection.disconnect('server_error', 'the edit could not be stored; reconnect and rejoin the document', true);
        throw error;
      }
    },
  };
}

/** Connections of other relays whose forwarded edits a relay keeps a transform budget for (the least recent go first). */
const MAX_FORWARDED_BUDGETS = 10_000;

/**
 * Commits the edits other relays forward to this one, the home of their document
 * (commit-forwarding.ts), as `editHandler` commits a connection's: announced to the document's
 * connections on every relay, the sender's ack as its echo, within a transform budget per sender
 * connection. What an edit comes to is the forwarding relay's to tell its client.
 */
export function forwardedEditCommitter(context: HandlerContext): CommitHere {
  const budgets = new Map<string, CostBudget>();
  const budgetOf = (connectionId: string): CostBudget => {
    let budget = budgets.get(connectionId);
    if (budget) budgets.delete(connectionId);
    else budget = context.documents.transformBudget();
    budgets.set(connectionId, budget);
    if (budgets.size > MAX_FORWARDED_BUDGETS) budgets.delete(budgets.keys().next().value!);
    return budget;
  };
  return async (sessionId, { userId, connectionId, edit }) => {
    const sender: Sender = { sessionId, userId, id: connectionId };
    let reply: Exclude<CommitResult, { kind: 'committed' }> | undefined;
    try {
      const result = await context.documents.commit(sessionId, userId, edit, {
        announce: announcer(context, sender, edit.document),
        reply: (answer) => void (reply = answer),
        afford: (cost) => budgetOf(connectionId).spend(cost),
        forked: () => context.hub.documentForkNotice(sessionId, edit.document, connectionId),
        forwarded: true,
      });
      if (result.kind === 'committed') return { kind: 'committed', ack: result.ack };
      const answered = reply ?? result;
      // The text of a resync is read by the sender's relay: it does not travel between relays.
      return answered.kind === 'duplicate'
        ? { kind: 'duplicate', ack: answered.ack }
        : { kind: 'resync-due', reason: resyncReason(answered) };
    } catch (error) {
      if (error instanceof DocumentLostError) return { kind: 'lost' };
      if (error instanceof ProtocolError)
        return { kind: 'error', code: error.code, message: error.message, ...(error.path !== undefined && { path: error.path }) };
      return { kind: 'failed' };
    }
  };
}

function resyncReason(result: Extract<CommitResult, { kind: 'resync' }>): 'history_trimmed' | 'too_costly' {
  return result.resync.reason === 'too_costly' ? 'too_costly' : 'history_trimmed';
}

/** Checks a connection may make in a burst, and per second after it (each costs a head read). */
const CHECK_BURST = 20;
const CHECKS_PER_SECOND = 5;
const checkBudgets = new WeakMap<Connection, CostBudget>();

function takeCheckToken(connection: Connection): boolean {
  let budget = checkBudgets.get(connection);
  if (!budget) checkBudgets.set(connection, (budget = new CostBudget(CHECKS_PER_SECOND, Date.now(), CHECK_BURST)));
  return budget.spend(1);
}

/**
 * The convergence check: a client at a quiet moment says what it has at a revision; if the relay's
 * document differs there, the client gets the relay's text (`collaboration.resync`, `diverged`),
 * and the relay counts and logs the repair. A repair means a bug somewhere: the count shows it.
 * Viewers check too (they can diverge as well).
 */
export function checkHandler(context: HandlerContext): Handler<'collaboration.check'> {
  return {
    handle: async (connection, { payload }) => {
      requireOpen(connection, payload.document);
      if (!takeCheckToken(connection))
        throw new ProtocolError('RATE_LIMITED', `at most ${CHECKS_PER_SECOND} convergence checks per second`, 'payload');
      if (payload.repairs) context.hub.stats.countRepairs('editor', payload.repairs);
      const result = await context.documents.check(connection.sessionId, payload);
      if (result.kind !== 'diverged') return;
      context.hub.stats.countRepairs('relay');
      sendResync(context, connection, result.resync);
    },
  };
}

/**
 * Cursors are ephemeral: no history, not echoed. They go to the whole session, not only to the
 * document's openers: everyone needs to know which file each participant is in (to follow them,
 * or show it). One placed at an older revision is moved to the head first. Viewers have cursors too.
 *
 * While the broker and document store cannot be reached (Redis down), a cursor still reaches
 * the participants on this relay (`toSessionEphemeral`), as sent: it cannot be moved to the head
 * without the history, and need not be, since no commit can happen anywhere meanwhile.
 */
export function cursorHandler(context: HandlerContext): Handler<'collaboration.cursor'> {
  return {
    handle: async (connection, { payload }) => {
      requireOpen(connection, payload.document);
      const { hub } = context;
      const message = (cursor: CursorPayload) => ({
        eventType: 'collaboration.cursor',
        data: encodeServerFrame('collaboration.cursor', cursor, { userId: connection.userId, sessionId: connection.sessionId }),
      });
      const audience = { exclude: connection.id };
      // The epoch is the client's own field; the relay never sends it.
      const asSent = message({
        document: payload.document,
        ...(payload.rev !== undefined && { rev: payload.rev }),
        selections: payload.selections,
      });
      if (!hub.availability.available) return hub.toLocalSession(connection.sessionId, asSent, audience);
      try {
        await context.documents.cursor(
          connection.sessionId,
          connection.userId,
          payload,
          async (cursor) => {
            await hub.toSessionEphemeral(connection.sessionId, message(cursor), audience);
          },
          afford(context, connection),
          connection.id,
        );
      } catch (error) {
        // The document store could not be read; the broker will not do better.
        if (!hub.availability.isUnavailableError(error)) throw error;
        hub.toLocalSession(connection.sessionId, asSent, audience);
      }
    },
  };
}

function requireOpen(connection: Connection, document: string): void {
  if (!connection.openDocuments.has(document)) {
    throw new ProtocolError('DOCUMENT_NOT_OPEN', `open "${document.slice(0, 128)}" with collaboration.open first`, 'payload.document');
  }
}
