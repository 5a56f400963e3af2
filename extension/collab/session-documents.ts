import * as vscode from 'vscode';
import type { ErrorCode, ErrorPayload, OpenPayload, RelayClient, SnapshotPayload } from '../../protocol';
import { maxEditOpBytes, openFrames } from '../../protocol/client';
import type { Log } from '../log';
import type { SharedDocumentRegistry } from '../presence/shared-document-registry';
import type { SharedDocument } from '../presence/shared-documents';
import type { SessionController } from '../session/session-controller';
import { DocumentBinding } from './document-binding';
import { documentLineIndex, positionAtWire, toWireText, wireOffsetAt } from './eol';

/** What this layer needs from workspace sharing: which files are shared, and what guests open. */
export interface SharedFiles {
  /**
   * The relay document id (wire path) of a document this window shares or sees shared, or
   * undefined if it is not part of the session (outside the folder, excluded, another session).
   */
  documentIdOf(uri: vscode.Uri): Promise<string | undefined>;
  /** Host: a guest read this path (it is opening the file): share it now. */
  readonly onDidGuestRead: vscode.Event<string>;
  /** Host: where a wire path lives on disk. */
  uriOf(documentId: string): vscode.Uri | undefined;
  /** Host: the sharing rules changed (`documentIdOf` may answer otherwise now). */
  readonly onDidChangeRules?: vscode.Event<void>;
}

/** A divergence found and repaired in one shared document. */
export interface DocumentRepair {
  readonly document: string;
  readonly reason: string;
}

/** An edit (or open) of this user's that the relay refused for good (`ErrorPayload.code` and `message`). */
export interface RefusedEdit {
  readonly document: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** A guest opening a file the host has not shared yet retries for this long. */
const JOIN_RETRY_MS = 400;
const JOIN_GIVE_UP_MS = 15_000;
/**
 * A guest rejoining a document the relay lost waits for the host to recreate it (only the host
 * may): quickly at first, then at this pace until it does, the editor closes or the session ends.
 */
const REJOIN_SLOW_RETRY_MS = 5_000;

interface Entry {
  id: string;
  textDocument: vscode.TextDocument;
  binding: DocumentBinding | undefined;
  /** Our own id for this document's edits: (user, client id, seq) makes resubmits idempotent. */
  clientId: string;
  joinStartedAt: number;
  /** Bound, re-opened, and not answered yet (a rejoin after a reconnect or a gap). */
  rejoinStartedAt: number | undefined;
  retry: NodeJS.Timeout | undefined;
  shared: (SharedDocument & vscode.Disposable) | undefined;
  registration: vscode.Disposable | undefined;
  /** The relay refused to open it for a limit (`onDidRefuseOpen` fired, once). */
  refusedOpen?: boolean;
}

/** Refusals of `collaboration.open` that a limit of the relay causes: the user is told, once per document. */
const OPEN_LIMITS: ReadonlySet<ErrorCode> = new Set(['DOCUMENT_TOO_LARGE', 'PENDING_PIECES_TOO_LARGE', 'TOO_MANY_DOCUMENTS']);

/**
 * Every shared text document of the session is one OT document on the relay, through a
 * `DocumentBinding`. The host shares a file when it opens it or a guest reads it (creating the
 * relay document with the file's text; never one that is read-only for guests, see
 * `SharedFiles.documentIdOf`); a guest joins the documents of the `tandem:` files it opens (never
 * creating one: only the host may). After a lost connection, every document is joined again from
 * the revision it had, and pending edits are resent: nothing typed is lost.
 */
export class SessionDocuments implements vscode.Disposable {
  private readonly entries = new Map<string, Entry>();
  private client: RelayClient | undefined;
  private clientSubscriptions: Array<{ dispose(): void }> = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly instance = Math.random().toString(36).slice(2, 8);
  private readonly bindingsChanged = new vscode.EventEmitter<void>();
  /** A document got or lost its binding. */
  readonly onDidChangeBindings = this.bindingsChanged.event;
  private readonly repairEmitter = new vscode.EventEmitter<DocumentRepair>();
  /** A shared document was found to differ (from the editor or from the relay) and was repaired: a bug to report. */
  readonly onDidRepair = this.repairEmitter.event;
  /** Repairs in this window since activation. */
  repairs = 0;
  private readonly refuseEmitter = new vscode.EventEmitter<RefusedEdit>();
  /** The relay refused one of this user's edits for good; it was taken out of the editor (see `DocumentBinding.onRefused`). */
  readonly onDidRefuseEdit = this.refuseEmitter.event;
  private readonly refuseOpenEmitter = new vscode.EventEmitter<RefusedEdit>();
  /** The relay would not open (share) a document, for one of its limits (too large, too many): it stays local. */
  readonly onDidRefuseOpen = this.refuseOpenEmitter.event;

  constructor(
    private readonly session: SessionController,
    private readonly registry: SharedDocumentRegistry,
    private readonly files: SharedFiles,
    private readonly log: Log,
  ) {
    this.disposables.push(
      session.onDidConnect(() => this.onConnected()),
      session.onDidChange(() => {
        if (!session.isActive) this.closeAll();
      }),
      vscode.workspace.onDidOpenTextDocument((document) => void this.consider(document)),
      vscode.workspace.onDidCloseTextDocument((document) => this.forgetDocument(document)),
      files.onDidGuestRead((id) => void this.shareForGuest(id)),
      files.onDidChangeRules?.(() => void this.recheck()) ?? { dispose: () => undefined },
    );
  }

  /** The binding of a document id, for tests and commands. */
  binding(documentId: string): DocumentBinding | undefined {
    return this.entries.get(documentId)?.binding;
  }

  /** The ids of the documents bound now. */
  boundIds(): string[] {
    return [...this.entries.values()].filter((entry) => entry.binding).map((entry) => entry.id);
  }

  /** The binding of an editor's document, if it is shared. */
  bindingOf(document: vscode.TextDocument): DocumentBinding | undefined {
    for (const entry of this.entries.values()) if (entry.textDocument === document) return entry.binding;
    return undefined;
  }

  private onConnected(): void {
    const client = this.session.client;
    if (!client) return;
    if (client !== this.client) this.subscribe(client);
    // Documents bound on an earlier connection: rejoin from the revision they have.
    for (const entry of this.entries.values()) this.join(entry);
    for (const document of vscode.workspace.textDocuments) void this.consider(document);
  }

  private subscribe(client: RelayClient): void {
    for (const subscription of this.clientSubscriptions) subscription.dispose();
    this.client = client;
    const withEntry = (id: string, f: (entry: Entry) => void) => {
      const entry = this.entries.get(id);
      if (entry) f(entry);
    };
    this.clientSubscriptions = [
      client.on('collaboration.snapshot', (p) => withEntry(p.document, (entry) => this.onSnapshot(entry, p))),
      client.on('collaboration.edit', (p) =>
        withEntry(p.document, (entry) => entry.binding?.onRemoteEdit(p.op, p.rev, p.client_id, p.seq)),
      ),
      client.on('collaboration.ack', (p) => withEntry(p.document, (entry) => entry.binding?.onAck(p.rev, p.seq))),
      client.on('collaboration.resync', (p) => withEntry(p.document, (entry) => entry.binding?.onResync(p.text, p.rev, p.reason))),
      client.on('error', (p) => this.onError(p)),
    ];
  }

  /** Shares or joins `document` if it belongs to the session and is not bound yet. */
  private async consider(document: vscode.TextDocument): Promise<void> {
    if (!this.session.isActive || this.session.state !== 'live' || !this.client) return;
    if (document.isClosed || [...this.entries.values()].some((e) => e.textDocument === document)) return;
    const id = await this.files.documentIdOf(document.uri);
    if (id === undefined || this.entries.has(id) || document.isClosed) return;
    const entry: Entry = {
      id,
      textDocument: document,
      binding: undefined,
      clientId: `${this.session.info?.userId ?? 'me'}.${this.instance}.${id.length.toString(36)}${hash(id)}`,
      joinStartedAt: Date.now(),
      rejoinStartedAt: undefined,
      retry: undefined,
      shared: undefined,
      registration: undefined,
    };
    this.entries.set(id, entry);
    this.join(entry);
  }

  /**
   * The sharing rules changed: a document that is no longer shared (now read-only for guests, or
   * excluded) is let go at once, so that no guest's edit of it reaches this editor; one that is
   * shared now is shared.
   */
  private async recheck(): Promise<void> {
    for (const entry of [...this.entries.values()]) {
      const id = await this.files.documentIdOf(entry.textDocument.uri);
      if (id !== entry.id && this.entries.get(entry.id) === entry) this.forget(entry);
    }
    for (const document of vscode.workspace.textDocuments) void this.consider(document);
  }

  /** Host: a guest is opening `id`; open the file here (not shown) so that its document exists. */
  private async shareForGuest(id: string): Promise<void> {
    if (this.entries.has(id) || this.session.info?.role !== 'host') return;
    const uri = this.files.uriOf(id);
    // A file that is not shared as a document (read-only for guests) is not opened here for nothing.
    if (!uri || (await this.files.documentIdOf(uri)) !== id) return;
    try {
      const document = await vscode.workspace.openTextDocument(uri);
      await this.consider(document);
    } catch {
      // Not a text file (or gone): the guest reads it through the file system alone.
    }
  }

  /** Opens (host: creates with the text, in pieces) or rejoins the relay document. */
  private join(entry: Entry): void {
    const client = this.client;
    if (!client || this.session.state !== 'live') return;
    const send = (open: OpenPayload) => {
      for (const frame of openFrames(open, client.connection?.limits.max_frame_bytes)) client.send('collaboration.open', frame);
    };
    // From the revision it has, with its copy: the relay rebuilds the document from it if it lost it.
    if (entry.binding) {
      entry.rejoinStartedAt ??= Date.now();
      return send({ document: entry.id, ...entry.binding.onRejoining() });
    }
    if (this.session.info?.role !== 'host') return send({ document: entry.id, create: false });
    send({ document: entry.id, text: toWireText(entry.textDocument.getText()) });
  }

  private onSnapshot(entry: Entry, snapshot: SnapshotPayload): void {
    const { text, rev, epoch } = snapshot;
    entry.rejoinStartedAt = undefined;
    if (entry.binding)
      return entry.binding.onSnapshot({ text, rev, lastSeq: snapshot.last_seq, epoch, reset: snapshot.reset, rebase: snapshot.rebase });
    if (entry.textDocument.isClosed) return this.forget(entry);
    const client = this.client;
    entry.binding = new DocumentBinding(
      entry.textDocument,
      { text, rev, clientId: entry.clientId, epoch },
      {
        send: (edit) => {
          const current = entry.binding?.epoch ?? epoch;
          return (
            client?.send('collaboration.edit', { document: entry.id, ...edit, ...(current !== undefined && { epoch: current }) }) ?? false
          );
        },
        // A paste larger than a frame goes in pieces the relay takes (WS_MAX_FRAME_BYTES).
        maxOpBytes: maxEditOpBytes(entry.id, client?.connection?.limits.max_frame_bytes),
        log: { info: (m) => this.log.info(m), warn: (m) => this.log.warn(m), error: (m) => this.log.error(m) },
        onGap: () => this.join(entry),
        check: (check) => void client?.send('collaboration.check', { document: entry.id, ...check }),
      },
    );
    const id = entry.id;
    entry.binding.onDidRefuse(({ code, message }) => this.refuseEmitter.fire({ document: id, code, message }));
    entry.binding.onDidRepair((reason) => {
      this.repairs++;
      this.repairEmitter.fire({ document: entry.id, reason });
    });
    entry.shared = sharedDocumentOf(entry.id, entry.binding);
    entry.registration = this.registry.register(entry.shared);
    this.log.info(`${this.session.info?.role === 'host' ? 'sharing' : 'joined'} ${entry.id} at revision ${rev}`);
    this.bindingsChanged.fire();
  }

  private onError(error: ErrorPayload): void {
    // A refused edit names its document and seq: its binding takes it out, or sends it again.
    if (error.event_type === 'collaboration.edit' && error.document !== undefined && error.seq !== undefined) {
      this.entries.get(error.document)?.binding?.onRefused(error.seq, error.code, error.message);
      return;
    }
    const refused = error.event_type === 'collaboration.open' && error.document !== undefined && this.entries.get(error.document);
    if (refused && OPEN_LIMITS.has(error.code)) {
      this.log.warn(`${refused.id} is not shared: ${error.code} ${error.message}`);
      if (!refused.refusedOpen) this.refuseOpenEmitter.fire({ document: refused.id, code: error.code, message: error.message });
      refused.refusedOpen = true;
      return;
    }
    if (error.event_type !== 'collaboration.open' || error.code !== 'DOCUMENT_NOT_FOUND') {
      if (error.event_type?.startsWith('collaboration.'))
        this.log.warn(`relay refused ${error.event_type}: ${error.code} ${error.message}`);
      return;
    }
    // A guest's file the host has not shared yet: try again for a while (the host shares it when it
    // serves the read). A bound document the relay lost: the host recreates it when it rejoins.
    for (const entry of this.entries.values()) {
      if (entry.retry) continue;
      const since = entry.binding ? entry.rejoinStartedAt : entry.joinStartedAt;
      if (since === undefined) continue;
      const waited = Date.now() - since;
      if (!entry.binding && waited > JOIN_GIVE_UP_MS) {
        this.log.warn(`${entry.id} is not shared by the host; editing it here stays local`);
        continue;
      }
      entry.retry = setTimeout(
        () => {
          entry.retry = undefined;
          this.join(entry);
        },
        waited > JOIN_GIVE_UP_MS ? REJOIN_SLOW_RETRY_MS : JOIN_RETRY_MS,
      );
    }
  }

  private forgetDocument(document: vscode.TextDocument): void {
    for (const entry of this.entries.values()) if (entry.textDocument === document) this.forget(entry);
  }

  private forget(entry: Entry): void {
    this.entries.delete(entry.id);
    if (entry.retry) clearTimeout(entry.retry);
    entry.registration?.dispose();
    entry.shared?.dispose();
    entry.binding?.dispose();
    this.client?.send('collaboration.close', { document: entry.id });
    if (entry.binding) this.bindingsChanged.fire();
  }

  private closeAll(): void {
    for (const entry of [...this.entries.values()]) this.forget(entry);
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    this.client = undefined;
  }

  dispose(): void {
    this.closeAll();
    this.bindingsChanged.dispose();
    this.repairEmitter.dispose();
    this.refuseEmitter.dispose();
    this.refuseOpenEmitter.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}

/** The binding as presence sees it. */
function sharedDocumentOf(id: string, binding: DocumentBinding): SharedDocument & vscode.Disposable {
  const document = binding.document;
  const index = () => documentLineIndex(document, vscode.Position, document.eol === vscode.EndOfLine.CRLF);
  return {
    id,
    textDocument: document,
    get revision() {
      return binding.revision;
    },
    get epoch() {
      return binding.epoch;
    },
    toWire: (offset) => {
      const position = document.positionAt(offset);
      return wireOffsetAt(index(), position.line, position.character);
    },
    fromWire: (offset) => {
      const { line, character } = positionAtWire(index(), offset);
      return document.offsetAt(new vscode.Position(line, character));
    },
    onDidChangeText: binding.onDidChangeText,
    dispose: () => undefined,
  };
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(36);
}
