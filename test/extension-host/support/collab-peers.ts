/**
 * Shared editing inside the extension host, against a real relay (in this process): editor
 * documents bound with `DocumentBinding` to a `RelayClient`, wired the way the extension's
 * session wires them (open, snapshot, edits, acks, resyncs, rejoin after a lost connection),
 * and temp-file documents to bind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import {
  createNodeWsTransport,
  maxEditOpBytes,
  openFrames,
  RelayClient,
  type SnapshotPayload,
  type Transport,
  type TransportFactory,
} from '../../../protocol';
import { DocumentBinding, type DocumentBindingOptions } from '../../../extension/collab/document-binding';
import { toDocumentText, toWireText } from '../../../extension/collab/eol';
import type { OtPeer } from '../../support/ot-peer';
import { fetchStats, startTestRelay, type TestRelay } from '../../support/relay-fixture';

const nodeTransport = createNodeWsTransport(WebSocket);

/** A relay in the extension host, with room for a 1 MB document in one frame and a fast typist. */
export function startCollabRelay(settings: Record<string, string> = {}): Promise<TestRelay> {
  return startTestRelay({
    WS_MAX_MESSAGES_PER_SECOND: '100000',
    WS_MAX_FRAME_BYTES: String(16 * 1024 * 1024),
    WS_MAX_BUFFERED_BYTES: String(256 * 1024 * 1024),
    ...settings,
  });
}

import { eventually } from './eventually';

export { eventually };

/** The relay's count of divergences found by convergence checks (`/ws/stats`): a test expects none. */
export async function relayRepairs(relay: TestRelay): Promise<number> {
  return (await fetchStats(relay)).document_repairs.relay;
}

/** Temp files to open as documents (on disk, so that each keeps the line ending it was written with). */
export class TempFiles {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tandem-collab-'));
  private count = 0;

  async open(text: string, name = `doc-${++this.count}.txt`): Promise<vscode.TextDocument> {
    const path = join(this.dir, name);
    writeFileSync(path, text);
    return vscode.workspace.openTextDocument(vscode.Uri.file(path));
  }

  /** Reverts and closes every editor of these files (they are dirty), then deletes them. */
  async dispose(): Promise<void> {
    for (const document of vscode.workspace.textDocuments) {
      if (document.uri.scheme !== 'file' || !document.uri.fsPath.startsWith(this.dir)) continue;
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The document's editor (opened if need be) in `column`, without taking the focus. */
export function editorOf(document: vscode.TextDocument, column = vscode.ViewColumn.One): Thenable<vscode.TextEditor> {
  return vscode.window.showTextDocument(document, { viewColumn: column, preserveFocus: true, preview: false });
}

/**
 * A local edit through the editor API, as a user's would be. `editor.edit` is refused when the
 * document changed since the callback ran (a remote edit got in first): then it is made again.
 */
export async function localEdit(
  document: vscode.TextDocument,
  build: (edit: vscode.TextEditorEdit, document: vscode.TextDocument) => void,
): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const editor = vscode.window.visibleTextEditors.find((e) => e.document === document) ?? (await editorOf(document));
    if (await editor.edit((edit) => build(edit, document), { undoStopBefore: true, undoStopAfter: true })) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`editor.edit of ${document.uri.toString()} was refused 50 times`);
}

export interface EditorPeerOptions {
  relay: Pick<TestRelay, 'url' | 'token'>;
  user: string;
  clientId: string;
  /** The shared document's id on the relay. */
  documentId: string;
  binding?: Partial<DocumentBindingOptions>;
  /**
   * Runs as a remote edit arrives, before the binding gets it (which makes its `applyEdit` at
   * once): a keystroke sent from here reaches the editor before that edit does.
   */
  beforeRemoteEdit?: () => void;
}

/** A VS Code participant: one editor document bound to one shared document through its own connection. */
export class EditorPeer {
  binding: DocumentBinding | undefined;
  /** Error frames and exceptions; a test expects none. */
  readonly problems: string[] = [];
  /** What the binding logged. */
  readonly logged: string[] = [];
  private readonly client: RelayClient;
  private transport: Transport | undefined;
  /** Relay messages that arrived before the binding existed (a guest creates its document first). */
  private early: Array<(binding: DocumentBinding) => void> = [];
  private snapshotResolve: ((snapshot: SnapshotPayload) => void) | undefined;
  private readonly firstSnapshot: Promise<SnapshotPayload>;

  private constructor(
    private readonly options: EditorPeerOptions,
    private readonly initialText: string | undefined,
  ) {
    this.firstSnapshot = new Promise((resolve) => (this.snapshotResolve = resolve));
    const transport: TransportFactory = (url, listener) => (this.transport = nodeTransport(url, listener));
    this.client = new RelayClient({
      url: options.relay.url,
      // The one that creates the document is a host: only a host may.
      token: options.relay.token({ user: options.user, role: initialText === undefined ? 'editor' : 'host' }),
      transport,
      backoff: { baseDelayMs: 10, maxDelayMs: 50 },
      onListenerError: (error) => this.problem(error),
    });
    const id = options.documentId;
    this.client.onConnected(() => this.open());
    this.client.on('collaboration.snapshot', (p) => p.document === id && this.onSnapshot(p));
    this.client.on('collaboration.edit', (p) => {
      if (p.document !== id) return;
      options.beforeRemoteEdit?.();
      this.deliver((b) => b.onRemoteEdit(p.op, p.rev, p.client_id, p.seq));
    });
    this.client.on('collaboration.ack', (p) => p.document === id && this.deliver((b) => b.onAck(p.rev, p.seq)));
    this.client.on('collaboration.resync', (p) => p.document === id && this.deliver((b) => b.onResync(p.text, p.rev, p.reason)));
    this.client.on('error', (p) => {
      // A refused edit of ours goes to the binding, as the extension does (session-documents.ts).
      const { seq } = p;
      if (p.event_type === 'collaboration.edit' && p.document === id && seq !== undefined)
        return this.deliver((b) => b.onRefused(seq, p.code, p.message));
      this.problems.push(`${options.clientId}: error ${p.code}: ${p.message}`);
    });
  }

  /** The host: opens (creates) the shared document with the editor document's text. */
  static async host(document: vscode.TextDocument, options: EditorPeerOptions): Promise<EditorPeer> {
    const peer = new EditorPeer(options, toWireText(document.getText()));
    peer.client.connect();
    const snapshot = await peer.firstSnapshot;
    peer.bind(document, snapshot);
    return peer;
  }

  /** A guest: gets the snapshot, then `createDocument` makes an editor document showing it (`text` in the EOL it wants). */
  static async guest(createDocument: (wireText: string) => Promise<vscode.TextDocument>, options: EditorPeerOptions): Promise<EditorPeer> {
    const peer = new EditorPeer(options, undefined);
    peer.client.connect();
    const snapshot = await peer.firstSnapshot;
    peer.bind(await createDocument(snapshot.text), snapshot);
    return peer;
  }

  get document(): vscode.TextDocument {
    return this.bound.document;
  }

  get bound(): DocumentBinding {
    assert.ok(this.binding, `${this.options.clientId} is not bound yet`);
    return this.binding;
  }

  /** The shared text as this peer has it (wire form). */
  get text(): string {
    return this.bound.text;
  }

  get connected(): boolean {
    return this.client.state === 'open';
  }

  /** Stops the connection (no reconnect) until `reconnect()`. */
  disconnect(): void {
    this.client.close();
  }

  reconnect(): void {
    this.client.connect();
  }

  /** Cuts the connection abruptly; the client reconnects by itself. */
  drop(): void {
    this.transport?.terminate?.();
  }

  dispose(): void {
    this.binding?.dispose();
    this.client.dispose();
  }

  private bind(document: vscode.TextDocument, snapshot: SnapshotPayload): void {
    const log = (level: string) => (message: string) => this.logged.push(`${level}: ${message}`);
    this.binding = new DocumentBinding(
      document,
      { text: snapshot.text, rev: snapshot.rev, clientId: this.options.clientId, epoch: snapshot.epoch },
      {
        send: (edit) => {
          const epoch = this.binding?.epoch ?? snapshot.epoch;
          return this.client.send('collaboration.edit', {
            document: this.options.documentId,
            ...edit,
            ...(epoch !== undefined && { epoch }),
          });
        },
        onGap: () => this.open(),
        // Quicker than the extension's second: the suites' quiet moments are short.
        check: (check) => void this.client.send('collaboration.check', { document: this.options.documentId, ...check }),
        checkAfterMs: 250,
        // As the extension does (session-documents.ts): a change larger than a frame goes in pieces.
        maxOpBytes: maxEditOpBytes(this.options.documentId, this.client.connection?.limits.max_frame_bytes),
        log: { info: log('info'), warn: log('warn'), error: log('error') },
        ...this.options.binding,
      },
    );
    for (const deliver of this.early.splice(0)) deliver(this.binding);
  }

  private open(): void {
    const binding = this.binding;
    if (binding) {
      // Rejoin: the relay sends what was missed (our own ops among them), then a snapshot.
      const frames = openFrames(
        { document: this.options.documentId, ...binding.onRejoining() },
        this.client.connection?.limits.max_frame_bytes,
      );
      for (const frame of frames) this.client.send('collaboration.open', frame);
      return;
    }
    this.client.send('collaboration.open', {
      document: this.options.documentId,
      ...(this.initialText !== undefined && { text: this.initialText }),
    });
  }

  private onSnapshot(snapshot: SnapshotPayload): void {
    if (this.snapshotResolve) {
      const resolve = this.snapshotResolve;
      this.snapshotResolve = undefined;
      resolve(snapshot);
      return;
    }
    const { text, rev, last_seq: lastSeq, epoch, reset, rebase } = snapshot;
    this.deliver((b) => b.onSnapshot({ text, rev, lastSeq, epoch, reset, rebase }));
  }

  private deliver(f: (binding: DocumentBinding) => void): void {
    try {
      if (this.binding) f(this.binding);
      else this.early.push(f);
    } catch (error) {
      this.problem(error);
    }
  }

  private problem(error: unknown): void {
    this.problems.push(`${this.options.clientId}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  }
}

/**
 * Waits until every editor peer is idle and every raw peer settled, with one shared text; then
 * checks each editor shows that text in its own line ending and nothing went wrong.
 */
export async function converged(
  editors: readonly EditorPeer[],
  raws: readonly OtPeer[] = [],
  timeoutMs = 30_000,
  recoveries = 0,
  repairs = recoveries,
): Promise<string> {
  const texts = () => [...editors.map((e) => e.text), ...raws.map((r) => r.text)];
  const state = () =>
    [
      ...editors.map(
        (e) => `${e.bound.clientId}: ${e.bound.idle ? 'idle' : 'busy'} rev ${e.bound.revision} ${JSON.stringify(e.text.slice(0, 200))}`,
      ),
      ...raws.map((r) => `${r.clientId}: ${r.settled ? 'settled' : 'busy'} rev ${r.doc?.revision} ${JSON.stringify(r.text.slice(0, 200))}`),
    ].join('\n');
  await eventually(
    () => editors.every((e) => e.bound.idle) && raws.every((r) => r.settled) && new Set(texts()).size === 1,
    () => `convergence:\n${state()}`,
    timeoutMs,
  );
  const text = texts()[0]!;
  for (const editor of editors) {
    const crlf = editor.document.eol === vscode.EndOfLine.CRLF;
    assert.ok(editor.bound.verify(), `${editor.bound.clientId}: the editor does not show the shared text`);
    assert.equal(
      editor.document.getText(),
      toDocumentText(text, crlf),
      `${editor.bound.clientId}: the editor's text (${crlf ? 'CRLF' : 'LF'})`,
    );
  }
  const problems = [...editors.flatMap((e) => e.problems), ...raws.flatMap((r) => r.problems)];
  assert.deepEqual(problems, [], 'no errors');
  const recovered = editors.reduce((n, e) => n + e.bound.stats.recoveries, 0);
  assert.equal(
    recovered,
    recoveries,
    `recoveries (editor text replaced by the shared text):\n${editors.flatMap((e) => e.logged).join('\n')}`,
  );
  const repaired = editors.reduce((n, e) => n + e.bound.stats.repairs, 0);
  assert.equal(repaired, repairs, `repairs (divergences found):\n${editors.flatMap((e) => e.logged).join('\n')}`);
  return text;
}
