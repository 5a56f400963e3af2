import { z } from 'zod';
import { AckPayload, EditPayload, ErrorCode, ResyncPayload } from '../../protocol';
import type { Broker, BrokerMessage, Disposable } from '../broker/broker';

/**
 * Commit forwarding between relays on one Redis: the edits of a document are committed by one
 * relay, its home (the holder of the document's commit lease, `DocumentStore.commitHome`), in its
 * groups, instead of every relay racing the others for each revision (a lost race costs a script
 * call and a rebuild, and the losers' groups shrink: measured before this, two relays of two
 * editors each on one document made 1.5 commit calls per edit, at a third of one relay's rate).
 *
 * The other relays send it their clients' edits (already validated, roles checked) over the
 * broker, and it commits each as if its sender were connected there: the commit's publication
 * reaches the sender's connection on its own relay as usual (the ack is its echo). That echo also
 * tells the forwarding relay that the edit was committed (`noteEcho`); the home answers
 * (`ForwardOutcome` per edit) only a forward with an edit that was not committed (a resend, an
 * error, a resync), which no publication shows. Measured before this, the answer of every forward
 * was a third of the messages between relays on a contended document.
 *
 * Forwarding is only a way to commit in fewer, larger groups; it decides nothing. The store's
 * compare-and-set and dedupe records make any commit safe wherever it is made, so a forward that
 * is not answered in time (the home died, or is stuck) is committed by the forwarding relay itself
 * (an edit that the home did commit meanwhile is then recognised as a resubmit and acked, never
 * applied twice), and that home is not sent anything more for a while.
 */

/** An edit as its sender's relay forwards it: who sent it (the connection's user and id) and the edit. */
export interface ForwardedEdit {
  userId: string;
  connectionId: string;
  edit: EditPayload;
}

/**
 * What became of a forwarded edit at the home. `failed`: not committed there for a reason of its
 * own (its store failed, it is stopping): the forwarding relay commits it itself.
 */
export type ForwardOutcome = z.infer<typeof ForwardOutcome>;

/** Commits one forwarded edit on this relay (the home), as if its sender were connected here. */
export type CommitHere = (sessionId: string, edit: ForwardedEdit) => Promise<ForwardOutcome>;

export interface CommitForwardingOptions {
  /** This relay's address (its store's `instance`, the name leases hold). */
  instance: string;
  /** How long a forward may wait for its answer before the edits are committed here. */
  timeoutMs?: number;
  /** How long a home that left a forward unanswered gets nothing more (its lease runs out meanwhile). */
  suspectMs?: number;
  /** Told of what each forward this relay sent came to, and of each edit it committed for another relay (`served`), for `/metrics`. */
  onForward?: (outcome: 'answered' | 'unanswered' | 'served', count?: number) => void;
  /** Told of a message from another relay that is not one (a relay of another version): dropped. */
  onMalformed?: (error: unknown) => void;
}

const ForwardOutcome = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('committed'), ack: AckPayload }),
  z.strictObject({ kind: z.literal('duplicate'), ack: AckPayload }),
  // A commit's resync is never `diverged` (that is the convergence check's).
  z.strictObject({ kind: z.literal('resync-due'), reason: ResyncPayload.shape.reason.exclude(['diverged']) }),
  z.strictObject({ kind: z.literal('error'), code: ErrorCode, message: z.string(), path: z.string().optional() }),
  z.strictObject({ kind: z.literal('lost') }),
  z.strictObject({ kind: z.literal('failed') }),
]);

const Request = z.strictObject({
  t: z.literal('forward'),
  /** The forwarding relay's address, for the answer. */
  from: z.string().min(1),
  id: z.number().int().nonnegative(),
  session: z.string(),
  edits: z.array(z.strictObject({ userId: z.string(), connectionId: z.string(), edit: EditPayload })).min(1),
});

const Answer = z.strictObject({
  t: z.literal('answer'),
  id: z.number().int().nonnegative(),
  outcomes: z.array(ForwardOutcome),
});

/** A home that stops (a graceful stop): the relays it served commit by themselves from now on, with no forward left to time out. */
const Leaving = z.strictObject({ t: z.literal('leaving'), from: z.string().min(1) });

const Message = z.discriminatedUnion('t', [Request, Answer, Leaving]);

const DEFAULT_TIMEOUT_MS = 750;
const DEFAULT_SUSPECT_MS = 5000;
/** Homes remembered as unresponsive at once, and relays remembered as served (a few dozen bytes each). */
const MAX_SUSPECTS = 1024;
const MAX_SERVED = 1024;

/** The broker channel a relay listens on for forwards and answers (its own hash tag: a shard of its own on a cluster). */
function channelOf(instance: string): string {
  return `forward:{${instance}}`;
}

interface Waiting {
  resolve(outcomes: ForwardOutcome[] | undefined): void;
  timer: NodeJS.Timeout;
  /** Per edit, its outcome once an echo showed it committed. */
  outcomes: Array<ForwardOutcome | undefined>;
  /** Edits whose outcome is still unknown. */
  unknown: number;
  /** The connections of its edits (keys of `expected`). */
  senders: string[];
}

/** A forwarded edit whose commit would show as an echo to its sender's connection. */
interface Expected {
  id: number;
  index: number;
  document: string;
  clientId: string;
  seq: number;
}

export class CommitForwarding {
  private readonly timeoutMs: number;
  private readonly suspectMs: number;
  private readonly waiting = new Map<number, Waiting>();
  /** Per sender connection, its forwarded edits not known to be committed yet, oldest first. */
  private readonly expected = new Map<string, Expected[]>();
  /** Homes that left a forward unanswered, and until when nothing more goes to them. */
  private readonly suspects = new Map<string, number>();
  /** The relays this one committed forwarded edits for (told when it stops). */
  private readonly served = new Set<string>();
  private nextId = 0;
  private subscription: Promise<Disposable> | undefined;
  private commitHere: CommitHere | undefined;
  private closed = false;

  constructor(
    private readonly broker: Broker,
    private readonly options: CommitForwardingOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.suspectMs = options.suspectMs ?? DEFAULT_SUSPECT_MS;
  }

  get instance(): string {
    return this.options.instance;
  }

  /** Listens for forwards (committed with `commitHere`) and for the answers to this relay's. */
  async start(commitHere: CommitHere): Promise<void> {
    this.commitHere = commitHere;
    this.subscription = this.broker.subscribe(channelOf(this.instance), (publication) => this.onMessage(publication.data));
    await this.subscription;
  }

  /** Whether edits may go to `home` now: not this relay, and it answered the last forward in time. */
  reachable(home: string): boolean {
    if (this.closed || !this.commitHere || home === this.instance) return false;
    const until = this.suspects.get(home);
    if (until === undefined) return true;
    if (Date.now() < until) return false;
    this.suspects.delete(home);
    return true;
  }

  /**
   * Sends `edits` (of one document) to `home` to commit; resolves with one outcome per edit, in
   * order, or undefined if no answer came in time (or the forward could not be sent): the caller
   * commits them itself.
   */
  forward(home: string, sessionId: string, edits: readonly ForwardedEdit[]): Promise<ForwardOutcome[] | undefined> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.settle(id, undefined);
        this.suspect(home);
        this.options.onForward?.('unanswered');
      }, this.timeoutMs);
      const senders = edits.map((e) => e.connectionId);
      this.waiting.set(id, { resolve, timer, outcomes: edits.map(() => undefined), unknown: edits.length, senders });
      edits.forEach(({ connectionId, edit }, index) => {
        const list = this.expected.get(connectionId) ?? [];
        if (list.length === 0) this.expected.set(connectionId, list);
        list.push({ id, index, document: edit.document, clientId: edit.client_id, seq: edit.seq });
      });
      const request: z.input<typeof Request> = { t: 'forward', from: this.instance, id, session: sessionId, edits: [...edits] };
      this.broker
        .publish(channelOf(home), { eventType: 'document.forward', data: JSON.stringify(request) })
        .catch(() => this.settle(id, undefined));
    });
  }

  /**
   * An echo reached this relay for `connectionId` (hub.ts `EchoListener`): if it acks an edit this
   * relay forwarded, that edit was committed. A forward is answered once all its edits are.
   */
  noteEcho(connectionId: string, echo: NonNullable<BrokerMessage['echo']>): void {
    const list = this.expected.get(connectionId);
    if (!list || echo.eventType !== 'collaboration.ack') return;
    let ack: AckPayload;
    try {
      ack = AckPayload.parse((JSON.parse(echo.data) as { payload?: unknown }).payload);
    } catch {
      return;
    }
    const at = list.findIndex((e) => e.document === ack.document && e.clientId === ack.client_id && e.seq === ack.seq);
    if (at < 0) return;
    const { id, index } = list[at]!;
    list.splice(at, 1);
    if (list.length === 0) this.expected.delete(connectionId);
    const waiting = this.waiting.get(id);
    if (!waiting || waiting.outcomes[index] !== undefined) return;
    waiting.outcomes[index] = { kind: 'committed', ack };
    if (--waiting.unknown > 0) return;
    this.options.onForward?.('answered');
    this.settle(id, waiting.outcomes as ForwardOutcome[]);
  }

  /**
   * Answers nothing more: waiting forwards are committed by their callers, forwards that arrive
   * are dropped, and the relays this one served are told so (they would otherwise wait for a
   * forward's timeout to find out).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const leaving = JSON.stringify({ t: 'leaving', from: this.instance } satisfies z.input<typeof Leaving>);
    await Promise.all(
      [...this.served].map((relay) =>
        this.broker.publish(channelOf(relay), { eventType: 'document.forward', data: leaving }).catch(() => undefined),
      ),
    );
    for (const id of [...this.waiting.keys()]) this.settle(id, undefined);
    (await this.subscription?.catch(() => undefined))?.dispose();
  }

  /** Ends forward `id` (if still waiting) with `outcomes`, or undefined: its caller commits its edits. */
  private settle(id: number, outcomes: ForwardOutcome[] | undefined): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    clearTimeout(waiting.timer);
    for (const sender of new Set(waiting.senders)) {
      const list = this.expected.get(sender)?.filter((e) => e.id !== id);
      if (list?.length) this.expected.set(sender, list);
      else this.expected.delete(sender);
    }
    waiting.resolve(outcomes);
  }

  private suspect(home: string): void {
    this.suspects.delete(home);
    this.suspects.set(home, Date.now() + this.suspectMs);
    if (this.suspects.size > MAX_SUSPECTS) this.suspects.delete(this.suspects.keys().next().value!);
  }

  private onMessage(data: string): void {
    let message: z.output<typeof Message>;
    try {
      message = Message.parse(JSON.parse(data));
    } catch (error) {
      this.options.onMalformed?.(error);
      return;
    }
    if (message.t === 'leaving') {
      this.suspect(message.from);
      return;
    }
    if (message.t === 'answer') {
      const waiting = this.waiting.get(message.id);
      if (!waiting) return; // too late: its edits were committed here
      this.options.onForward?.('answered');
      this.settle(message.id, message.outcomes.length === waiting.outcomes.length ? message.outcomes : undefined);
      return;
    }
    if (this.closed || !this.commitHere) return; // the sender's timeout commits them
    void this.serve(message, this.commitHere);
  }

  /**
   * Commits a forward's edits here (each in its document's queue, in order) and answers with what
   * became of them, unless every one was committed: the sender's relay sees those in the echoes.
   */
  private async serve(request: z.output<typeof Request>, commitHere: CommitHere): Promise<void> {
    this.served.delete(request.from);
    this.served.add(request.from);
    if (this.served.size > MAX_SERVED) this.served.delete(this.served.values().next().value!);
    const outcomes = await Promise.all(
      request.edits.map((edit) => commitHere(request.session, edit).catch((): ForwardOutcome => ({ kind: 'failed' }))),
    );
    this.options.onForward?.('served', request.edits.length);
    if (outcomes.every((outcome) => outcome.kind === 'committed')) return;
    const answer: z.input<typeof Answer> = { t: 'answer', id: request.id, outcomes };
    await this.broker.publish(channelOf(request.from), { eventType: 'document.forward', data: JSON.stringify(answer) }).catch(() => {
      // Unanswered: the sender's timeout commits them again, which its dedupe records make an ack.
    });
  }
}
