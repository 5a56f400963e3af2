/**
 * An OT participant for tests against the real relay: the typed `RelayClient` plus a
 * `ClientDocument` for one document, wired the way an editor integration would wire them,
 * including rejoining after a dropped connection (with its copy, so that a relay that lost the
 * document rebuilds it from the participants'). Random edits for convergence tests too.
 */
import WebSocket from 'ws';
import {
  ClientDocument,
  SyncError,
  createNodeWsTransport,
  maxEditOpBytes,
  openFrames,
  refusedEditAction,
  type ErrorCode,
  type OutgoingEdit,
  RelayClient,
  type SnapshotPayload,
  textType,
  type TextOp,
  type Transport,
  type TransportFactory,
} from '../../protocol';

const nodeTransport = createNodeWsTransport(WebSocket);
/** A rejoin the relay could not answer (the document is gone and this peer may not recreate it) is tried again after this. */
const REJOIN_RETRY_MS = 100;

export class OtPeer {
  readonly client: RelayClient;
  doc: ClientDocument | undefined;
  /** Everything that went wrong (error frames, exceptions in handlers); a test expects none. */
  readonly problems: string[] = [];
  /** Frames refused with BROKER_UNAVAILABLE (Redis down): expected in outage tests, resolved by the rejoin after it. */
  brokerRefusals = 0;
  /** Seqs sent on the current connection (a rejoin resends the outstanding op only if it is not among them). */
  private sentOnConnection = new Set<number>();
  /** Between a (re)connect and the snapshot that answers its open: nothing is sent meanwhile. */
  private joining = true;
  private transport: Transport | undefined;
  private readyResolve: (() => void) | undefined;
  private retry: NodeJS.Timeout | undefined;
  readonly ready: Promise<void>;
  connects = 0;
  resyncs = 0;
  /** Snapshots flagged `reset`: the relay had lost the document and rebuilt it from the participants' copies. */
  resets = 0;
  /** Catch-ups after a revision gap (publications lost, e.g. while the relay's Redis restarted). */
  gapRejoins = 0;
  /** Codes of this peer's edits the relay refused for good (each taken out of its text). */
  readonly refusals: string[] = [];
  /** Edits refused as over the message rate (each sent again). */
  rateLimited = 0;

  constructor(
    url: string,
    token: string,
    readonly clientId: string,
    readonly document: string,
    private readonly initialText?: string,
  ) {
    this.ready = new Promise((resolve) => (this.readyResolve = resolve));
    const transport: TransportFactory = (u, listener) => (this.transport = nodeTransport(u, listener));
    this.client = new RelayClient({
      url,
      token,
      transport,
      backoff: { baseDelayMs: 10, maxDelayMs: 50 },
      onListenerError: (e) => this.problem(e),
    });
    this.client.onConnected(() => this.join());
    this.client.on('collaboration.snapshot', (p) => p.document === this.document && this.onSnapshot(p));
    this.client.on('collaboration.edit', (p) => p.document === this.document && this.onEdit(p.op, p.rev, p.client_id, p.seq));
    this.client.on('collaboration.ack', (p) => p.document === this.document && this.onAck(p.rev, p.seq));
    this.client.on('collaboration.resync', (p) => p.document === this.document && this.onResync(p.text, p.rev));
    this.client.on('error', (p) => {
      // One of our edits refused: as the extension's binding does (DocumentBinding.onRefused).
      if (p.event_type === 'collaboration.edit' && p.document === this.document && p.seq !== undefined)
        return this.onRefused(p.seq, p.code);
      // A rejoin of a document the relay lost, that this peer may not recreate (a viewer): later.
      if (p.code === 'DOCUMENT_NOT_FOUND' && p.event_type === 'collaboration.open' && this.doc && this.joining) this.retryRejoin();
      // Redis is down: the op stays unconfirmed until the reconnect the relay asks for once it is back.
      else if (p.code === 'BROKER_UNAVAILABLE') this.brokerRefusals++;
      else this.problems.push(`${this.clientId}: error ${p.code}: ${p.message}`);
    });
  }

  start(): Promise<void> {
    this.client.connect();
    return this.ready;
  }

  /** Cuts the connection abruptly (no close handshake); the client reconnects by itself. */
  drop(): void {
    this.transport?.terminate?.();
  }

  get text(): string {
    return this.doc?.text ?? '';
  }

  /** A local edit against `text`. */
  edit(op: TextOp): void {
    if (!this.doc) throw new Error(`${this.clientId} edits before its snapshot`);
    const outgoing = this.doc.applyLocal(op);
    if (outgoing) this.send(outgoing);
  }

  /** In step with the relay: connected, joined, nothing pending. */
  get settled(): boolean {
    return this.client.state === 'open' && !this.joining && this.doc?.state === 'synchronized';
  }

  dispose(): void {
    clearTimeout(this.retry);
    this.client.dispose();
  }

  private join(): void {
    this.connects++;
    this.rejoin();
  }

  /**
   * Opens the document again from the revision this peer has, with its copy (`ClientDocument.rejoin`):
   * the relay sends what was missed, or, if it lost the document, merges the copy and says `reset`.
   */
  private rejoin(): void {
    clearTimeout(this.retry);
    this.joining = true;
    this.sentOnConnection = new Set();
    const doc = this.doc;
    const frameLimit = this.client.connection?.limits.max_frame_bytes;
    if (!doc) {
      // A long initial text in pieces, as the extension's host sends it.
      const open = { document: this.document, ...(this.initialText !== undefined && { text: this.initialText }) };
      for (const frame of openFrames(open, frameLimit)) this.client.send('collaboration.open', frame);
      return;
    }
    // Long texts go in pieces, and the oldest committed ops are dropped if the frame is too large.
    for (const open of openFrames({ document: this.document, ...doc.rejoin() }, frameLimit)) this.client.send('collaboration.open', open);
  }

  private retryRejoin(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      if (this.client.state === 'open' && this.joining) this.rejoin();
    }, REJOIN_RETRY_MS);
  }

  /** Sends an edit, but not while rejoining: what is pending then goes out after the snapshot. */
  private send(edit: OutgoingEdit): void {
    if (this.joining) return;
    const epoch = this.doc?.epoch;
    if (this.client.send('collaboration.edit', { document: this.document, ...edit, ...(epoch !== undefined && { epoch }) }))
      this.sentOnConnection.add(edit.seq);
  }

  private onSnapshot(snapshot: SnapshotPayload): void {
    this.guard(() => {
      const { text, rev, last_seq: lastSeq, epoch } = snapshot;
      this.joining = false;
      if (!this.doc) {
        this.doc = new ClientDocument({
          clientId: this.clientId,
          revision: rev,
          text,
          ...(epoch !== undefined && { epoch }),
          // As the extension does: a change larger than a frame goes in pieces.
          maxOpBytes: maxEditOpBytes(this.document, this.client.connection?.limits.max_frame_bytes),
        });
        this.readyResolve?.();
        return;
      }
      if (snapshot.reset) {
        // The relay lost the document and rebuilt it: our copy is merged in; adopt the new epoch.
        this.resets++;
        const { outgoing } = this.doc.reset({
          text,
          rev,
          ...(epoch !== undefined && { epoch }),
          ...(snapshot.rebase && { rebase: snapshot.rebase }),
        });
        if (outgoing) this.send(outgoing);
        return;
      }
      this.doc.endRejoin();
      if (rev !== this.doc.revision) {
        // The ops missed while away are no longer kept: rebase onto the snapshot.
        this.resyncs++;
        const { outgoing } = this.doc.resync(text, rev, lastSeq);
        if (outgoing) this.send(outgoing);
        return;
      }
      const pending = this.doc.resendPending();
      if (pending && !this.sentOnConnection.has(pending.seq)) this.send(pending);
    });
  }

  /** One of our edits refused: as the extension's binding does (`refusedEditAction`, `DocumentBinding.onRefused`). */
  private onRefused(seq: number, code: ErrorCode): void {
    this.guard(() => {
      const doc = this.doc;
      if (!doc || doc.resendPending()?.seq !== seq) return;
      const action = refusedEditAction(code);
      if (action === 'wait') {
        // Redis is down: the op stays unconfirmed until the reconnect the relay asks for once it is back.
        if (code === 'BROKER_UNAVAILABLE') this.brokerRefusals++;
        else this.problems.push(`${this.clientId}: edit ${seq} refused: ${code}`);
        return;
      }
      if (action === 'resend') {
        this.rateLimited++;
        setTimeout(() => {
          const pending = this.doc?.resendPending();
          if (pending?.seq === seq) this.send(pending);
        }, 1000).unref();
        return;
      }
      if (action === 'rejoin') return this.rejoin();
      this.refusals.push(code);
      const result = doc.refuse(seq);
      if (result?.outgoing) this.send(result.outgoing);
    });
  }

  private onEdit(op: TextOp, rev: number, clientId: string, seq: number): void {
    this.guard(() => {
      const doc = this.doc;
      if (!doc || rev <= doc.revision) return;
      // While rejoining, live ops may overtake the catch-up; the catch-up has them too.
      if (this.joining && rev > doc.revision + 1) return;
      if (clientId === this.clientId && doc.resendPending()?.seq === seq) {
        // Our own op, committed while we were away: it is our ack.
        const next = doc.serverAck(rev, seq);
        if (next) this.send(next);
        return;
      }
      doc.applyServer(op, rev, { clientId, seq });
    });
  }

  private onAck(rev: number, seq: number): void {
    this.guard(() => {
      const next = this.doc?.serverAck(rev, seq);
      if (next) this.send(next);
    });
  }

  private onResync(text: string, rev: number): void {
    this.guard(() => {
      if (!this.doc) return;
      this.resyncs++;
      const { outgoing } = this.doc.resync(text, rev);
      if (outgoing) this.send(outgoing);
    });
  }

  private guard(f: () => void): void {
    try {
      f();
    } catch (error) {
      // A gap (an edit or ack past the next revision): some publications never arrived. Catch up
      // like after a reconnect, which is what the editor integration does too.
      if (error instanceof SyncError && error.code === 'REVISION_GAP' && this.doc) {
        if (!this.joining) {
          this.gapRejoins++;
          this.rejoin();
        }
        return;
      }
      this.problem(error);
    }
  }

  private problem(error: unknown): void {
    this.problems.push(`${this.clientId}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

/** A small seeded PRNG (mulberry32), so that a failing run can be replayed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'b', 'z', ' ', '\n', 'é', '👋🏽', '😀', '∑', '{', '}'];

/** Moves `pos` off the middle of a surrogate pair. */
function boundary(text: string, pos: number): number {
  if (pos > 0 && pos < text.length) {
    const hi = text.charCodeAt(pos - 1);
    const lo = text.charCodeAt(pos);
    if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) return pos - 1;
  }
  return pos;
}

export interface RandomEditOptions {
  /** Spans that must stay whole: no edit inside them, no delete across them. */
  protectedSpans?: Array<[number, number]>;
  /** Text to insert instead of a random piece (a unique marker). */
  insert?: string;
}

/**
 * A random edit of `text`: a single character, a paste (several lines, emoji), a delete (up to a
 * few lines) or a replacement; undefined if the pick falls inside a protected span.
 */
export function randomEdit(text: string, random: () => number, options: RandomEditOptions = {}): TextOp | undefined {
  const spans = options.protectedSpans ?? [];
  const pick = (n: number) => Math.floor(random() * n);
  const piece = () => PIECES[pick(PIECES.length)]!;
  const paste = () => Array.from({ length: 2 + pick(12) }, piece).join('');
  const kind = random();
  let insert = options.insert ?? (kind < 0.5 ? piece() : paste());
  const from = boundary(text, pick(text.length + 1));
  let to = from;
  if (options.insert === undefined && kind >= 0.7 && text.length > 0) {
    to = boundary(text, Math.min(text.length, from + 1 + pick(kind >= 0.9 ? 60 : 8)));
    if (kind < 0.85) insert = '';
  }
  for (const [s, e] of spans) {
    if (from > s && from < e) return undefined;
    if (to > s && to < e) return undefined;
    if (from <= s && to >= e && to > from) return undefined;
  }
  if (from === to && insert === '') return undefined;
  return textType.fromChange(from, text.slice(from, to), insert);
}
