import * as vscode from 'vscode';
import { type CursorPayload, type RelayClient, textType } from '../../protocol';
import type { SelectionRange } from '../../protocol/ot';
import type { SessionController } from '../session/session-controller';
import { colorFor, withAlpha } from './colors';
import type { SharedDocument, SharedDocuments } from './shared-documents';

/** Where one participant is: their document and selections (wire offsets, kept current by transforming). */
export interface RemoteCursor {
  userId: string;
  displayName: string;
  color: string;
  documentId: string;
  selections: SelectionRange[];
}

/** What was drawn in one editor, per participant (VS Code offers no way to read decorations back). */
export interface DrawnCursor {
  userId: string;
  label: string;
  /** Editor offsets. */
  selections: Array<{ anchor: number; head: number }>;
}

/** Selection updates are sent at most this often: a held arrow key must not flood the relay. */
const SEND_INTERVAL_MS = 40;

interface Decorations {
  selection: vscode.TextEditorDecorationType;
  caret: vscode.TextEditorDecorationType;
}

/**
 * Everyone's cursors and selections: our own go to the relay as `collaboration.cursor` (wire
 * offsets, with the revision they were made at); the others' are drawn in their colour with a
 * name label in every editor showing their document, and moved along as the text changes until
 * their next update.
 */
export class RemoteCursors implements vscode.Disposable {
  private readonly cursors = new Map<string, RemoteCursor>();
  private readonly decorations = new Map<string, Decorations>();
  private readonly drawn = new Map<vscode.TextEditor, DrawnCursor[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private clientSubscriptions: Array<{ dispose(): void }> = [];
  private subscribedClient: RelayClient | undefined;
  private pendingSend: NodeJS.Timeout | undefined;
  private readonly changed = new vscode.EventEmitter<RemoteCursor | undefined>();
  /** A participant's cursor moved (or, with undefined, several changed at once). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly session: SessionController,
    private readonly documents: SharedDocuments,
  ) {
    this.disposables.push(
      this.changed,
      session.onDidConnect(() => {
        this.subscribe();
        this.scheduleSend(); // tell the others where we are after every (re)connect
      }),
      session.onDidChange(() => this.onSessionChange()),
      documents.onDidOpen((document) => {
        this.watch(document);
        // The document we are in may have just become shared: say where we are.
        if (vscode.window.activeTextEditor?.document === document.textDocument) this.scheduleSend();
      }),
      documents.onDidClose((document) => this.render(document.id)),
      vscode.window.onDidChangeTextEditorSelection((event) => {
        if (this.documents.forTextDocument(event.textEditor.document)) this.scheduleSend();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.scheduleSend()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.renderAll()),
    );
  }

  /** The participant's cursor, if they are in a shared document. */
  get(userId: string): RemoteCursor | undefined {
    return this.cursors.get(userId);
  }

  get all(): RemoteCursor[] {
    return [...this.cursors.values()];
  }

  /** What is drawn in `editor` (for tests and diagnostics). */
  drawnIn(editor: vscode.TextEditor): DrawnCursor[] {
    return this.drawn.get(editor) ?? [];
  }

  private subscribe(): void {
    const client = this.session.client;
    if (!client || client === this.subscribedClient) return;
    for (const subscription of this.clientSubscriptions) subscription.dispose();
    this.subscribedClient = client;
    this.clientSubscriptions = [
      client.on('collaboration.cursor', (payload, frame) => this.onRemoteCursor(frame.user_id, payload)),
      client.on('session.left', (participant) => {
        // Gone unless another window of theirs is still in the session.
        if (this.session.participants.some((p) => p.user_id === participant.user_id)) return;
        this.forget(participant.user_id);
      }),
    ];
  }

  private onSessionChange(): void {
    if (this.session.isActive) return;
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    this.subscribedClient = undefined;
    for (const userId of [...this.cursors.keys()]) this.forget(userId);
  }

  private onRemoteCursor(userId: string, payload: CursorPayload): void {
    if (userId === this.session.info?.userId) return; // our own, from another window of ours
    const previous = this.cursors.get(userId);
    const displayName = this.session.participants.find((p) => p.user_id === userId)?.display_name ?? userId;
    const cursor: RemoteCursor = {
      userId,
      displayName,
      color: colorFor(userId),
      documentId: payload.document,
      selections: payload.selections,
    };
    this.cursors.set(userId, cursor);
    if (previous && previous.documentId !== cursor.documentId) this.render(previous.documentId);
    this.render(cursor.documentId);
    this.changed.fire(cursor);
  }

  private forget(userId: string): void {
    const cursor = this.cursors.get(userId);
    if (!cursor) return;
    this.cursors.delete(userId);
    this.render(cursor.documentId);
    const decorations = this.decorations.get(userId);
    decorations?.selection.dispose();
    decorations?.caret.dispose();
    this.decorations.delete(userId);
    this.changed.fire(undefined);
  }

  /** Keeps the cursors in `document` where they were in the text as it changes. */
  private watch(document: SharedDocument): void {
    const subscription = document.onDidChangeText(({ op }) => {
      let moved = false;
      for (const cursor of this.cursors.values()) {
        if (cursor.documentId !== document.id) continue;
        cursor.selections = cursor.selections.map((s) => textType.transformSelection(s, op));
        moved = true;
      }
      if (moved) this.render(document.id);
    });
    this.disposables.push(subscription);
    this.render(document.id);
  }

  private scheduleSend(): void {
    if (this.pendingSend) return;
    this.pendingSend = setTimeout(() => {
      this.pendingSend = undefined;
      this.sendOwn();
    }, SEND_INTERVAL_MS);
  }

  private sendOwn(): void {
    const editor = vscode.window.activeTextEditor;
    const client = this.session.client;
    if (!editor || !client || this.session.state !== 'live') return;
    const shared = this.documents.forTextDocument(editor.document);
    if (!shared) return;
    const offset = (position: vscode.Position) => shared.toWire(editor.document.offsetAt(position));
    const selections = editor.selections.slice(0, 100).map((s) => ({ anchor: offset(s.anchor), head: offset(s.active) }));
    const epoch = shared.epoch;
    client.send('collaboration.cursor', { document: shared.id, rev: shared.revision, ...(epoch !== undefined && { epoch }), selections });
  }

  private renderAll(): void {
    const ids = new Set<string>();
    for (const editor of vscode.window.visibleTextEditors) {
      const shared = this.documents.forTextDocument(editor.document);
      if (shared) ids.add(shared.id);
    }
    for (const id of ids) this.render(id);
  }

  /** Redraws everyone's cursors in the editors showing `documentId`. */
  private render(documentId: string): void {
    const shared = this.documents.get(documentId);
    for (const editor of vscode.window.visibleTextEditors) {
      if (!shared || editor.document !== shared.textDocument) continue;
      const drawn: DrawnCursor[] = [];
      const lastLine = editor.document.lineAt(editor.document.lineCount - 1);
      const length = editor.document.offsetAt(lastLine.range.end);
      for (const [userId, cursor] of this.cursors) {
        const { selection, caret } = this.decorationsFor(cursor);
        const here = cursor.documentId === documentId;
        const toEditor = (wire: number) => Math.min(shared.fromWire(wire), length);
        const ranges = here ? cursor.selections.map((s) => ({ anchor: toEditor(s.anchor), head: toEditor(s.head) })) : [];
        const position = (offset: number) => editor.document.positionAt(offset);
        editor.setDecorations(
          selection,
          ranges
            .filter((r) => r.anchor !== r.head)
            .map((r) => new vscode.Range(position(Math.min(r.anchor, r.head)), position(Math.max(r.anchor, r.head)))),
        );
        editor.setDecorations(
          caret,
          ranges.map((r, i) => ({
            range: new vscode.Range(position(r.head), position(r.head)),
            hoverMessage: cursor.displayName,
            // The name label on the main caret only.
            ...(i === 0 && { renderOptions: { after: { contentText: cursor.displayName } } }),
          })),
        );
        if (here) drawn.push({ userId, label: cursor.displayName, selections: ranges });
      }
      this.drawn.set(editor, drawn);
    }
  }

  private decorationsFor(cursor: RemoteCursor): Decorations {
    let decorations = this.decorations.get(cursor.userId);
    if (!decorations) {
      decorations = {
        selection: vscode.window.createTextEditorDecorationType({
          backgroundColor: withAlpha(cursor.color, 0.25),
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
        caret: vscode.window.createTextEditorDecorationType({
          // A caret is an empty range: drawn as a coloured bar before it (CSS through the decoration's style).
          before: {
            contentText: '',
            textDecoration:
              `none; border-left: 2px solid ${cursor.color}; margin-left: -1px; margin-right: -1px; height: 1.3em; ` +
              `display: inline-block; vertical-align: text-bottom;`,
          },
          after: {
            color: '#ffffff',
            backgroundColor: cursor.color,
            margin: '0 0 0 2px',
            textDecoration: 'none; font-size: 0.85em; padding: 0 3px; border-radius: 2px;',
          },
          rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        }),
      };
      this.decorations.set(cursor.userId, decorations);
    }
    return decorations;
  }

  dispose(): void {
    if (this.pendingSend) clearTimeout(this.pendingSend);
    for (const subscription of this.clientSubscriptions) subscription.dispose();
    for (const disposable of this.disposables) disposable.dispose();
    for (const { selection, caret } of this.decorations.values()) {
      selection.dispose();
      caret.dispose();
    }
  }
}
