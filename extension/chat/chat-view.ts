import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { SharedDocuments } from '../presence/shared-documents';
import { colorFor } from '../presence/colors';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import type { ChatEntry } from './chat-model';
import type { ChatViewState, FromWebview, RenderedEntry, ToWebview } from './chat-protocol';
import type { ChatService } from './chat-service';
import type { FeedbackService } from './feedback-service';
import { isAllowedLink, renderMarkdown } from './markdown';

export const CHAT_VIEW_ID = 'tandem.chat';

/**
 * The Chat view (a webview in the Tandem container): renders the `ChatService` model, which lives
 * here in the extension host. The webview only shows the HTML it is posted (Markdown rendered and
 * sanitised here, see `renderMarkdown`) under a strict CSP with a nonce, and posts back what the
 * user does; it follows no link itself.
 */
export class ChatView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | undefined;
  private readonly cache = new Map<string, { source: string; html: string }>();
  private readonly subscriptions: vscode.Disposable[];
  private unreadCount = 0;
  /** The last state posted to the webview (what it shows), for tests. */
  lastState: ChatViewState | undefined;
  /** The last text editor that had the focus: Insert at Cursor goes there. */
  private lastEditor: vscode.TextEditor | undefined = vscode.window.activeTextEditor;
  private readonly assets: vscode.Uri;
  private readonly handled = new vscode.EventEmitter<FromWebview>();
  /** Every message from the webview, once handled (for tests). */
  readonly onDidHandle = this.handled.event;

  constructor(
    extensionUri: vscode.Uri,
    private readonly chat: ChatService,
    private readonly session: SessionController,
    private readonly documents: SharedDocuments,
    private readonly log: Log,
    private readonly feedback: FeedbackService,
  ) {
    this.assets = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    this.subscriptions = [
      chat.onDidChange(() => this.post()),
      session.onDidChange(() => this.post()),
      feedback.onDidChange(() => this.post()),
      chat.onDidReceive(() => {
        if (this.view?.visible) return;
        this.unreadCount++;
        this.showBadge();
      }),
      vscode.window.onDidChangeActiveTextEditor((editor) => {
        if (editor) this.lastEditor = editor;
      }),
    ];
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  get unread(): number {
    return this.unreadCount;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [this.assets] };
    view.webview.html = this.html(view.webview);
    view.onDidChangeVisibility(() => {
      if (view.visible) {
        this.unreadCount = 0;
        this.showBadge();
        this.post();
      }
    });
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
    view.webview.onDidReceiveMessage((message: FromWebview) => void this.handle(message));
    // Resolved when first shown: no visibility change tells of that one.
    if (view.visible) {
      this.unreadCount = 0;
      this.showBadge();
    }
  }

  /** Shows the view and puts the focus in its input. */
  async reveal(): Promise<void> {
    await vscode.commands.executeCommand(`${CHAT_VIEW_ID}.focus`);
    void this.view?.webview.postMessage({ type: 'focus' } satisfies ToWebview);
  }

  /** What the webview would do for a message it posts: for tests, which cannot click inside it. */
  async handle(message: FromWebview): Promise<void> {
    try {
      switch (message.type) {
        case 'ready':
          this.post();
          break;
        case 'send':
          this.chat.send(message.text);
          break;
        case 'ask':
          this.chat.ask(message.text);
          break;
        case 'retry':
          this.chat.retry(message.clientMessageId);
          break;
        case 'discard':
          this.chat.discard(message.clientMessageId);
          break;
        case 'cancel':
          this.chat.cancel(message.requestId);
          break;
        case 'openLink':
          // Only what the renderer would link; VS Code asks before opening an outside link.
          if (isAllowedLink(message.href)) await vscode.env.openExternal(vscode.Uri.parse(message.href, true));
          break;
        case 'openPath':
          await this.openPath(message.path, message.line, message.endLine);
          break;
        case 'insert':
          await this.insert(message.code);
          break;
        case 'copy':
          await vscode.env.clipboard.writeText(message.code);
          break;
        case 'typing':
          this.chat.setTyping(message.active);
          break;
        case 'feedback':
          await this.feedback.rateAnswer(message.requestId, message.rating === 'down' ? 'down' : 'up');
          break;
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      this.log.warn(`chat: ${message.type}: ${text}`);
      void vscode.window.showWarningMessage(`Tandem: ${text}`);
    } finally {
      this.handled.fire(message);
    }
  }

  /** Opens a shared file at a line (a guest's through the `tandem:` file system, the host's in its folder). */
  async openPath(path: string, line: number, endLine?: number): Promise<vscode.TextEditor | undefined> {
    if (!this.session.info) throw new Error('not in a session: shared files open only during one');
    const uri = this.documents.uriFor(path);
    if (!uri) throw new Error(`no shared file ${path}`);
    const start = new vscode.Position(Math.max(0, line - 1), 0);
    const end = new vscode.Position(Math.max(0, (endLine ?? line) - 1), 0);
    const editor = await vscode.window.showTextDocument(uri, { selection: new vscode.Range(start, end), preview: true });
    editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  }

  /** Insert at Cursor: into the last active text editor, replacing its selection. */
  async insert(code: string): Promise<void> {
    const editor =
      vscode.window.activeTextEditor ??
      (this.lastEditor && vscode.window.visibleTextEditors.includes(this.lastEditor) ? this.lastEditor : undefined) ??
      this.lastEditor;
    if (!editor || editor.document.isClosed) throw new Error('no editor to insert into: click into one first');
    const ok = await editor.edit((edit) => {
      for (const selection of editor.selections) edit.replace(selection, code);
    });
    if (!ok) throw new Error('the editor refused the insertion');
  }

  /** The state as the webview gets it. */
  state(): ChatViewState {
    const { state } = this.session;
    const status =
      state === 'live'
        ? ''
        : state === 'reconnecting'
          ? 'Reconnecting… messages you send wait and go out when the connection is back.'
          : state === 'connecting'
            ? 'Connecting…'
            : 'Start or join a session to chat.';
    const live = new Set<string>();
    const entries = this.chat.model.entries.map((entry) => {
      live.add(entry.key);
      return this.render(entry);
    });
    for (const key of this.cache.keys()) if (!live.has(key)) this.cache.delete(key);
    return { entries, connected: state === 'live' || state === 'reconnecting', status, typing: this.chat.typing };
  }

  private post(): void {
    const state = this.state();
    this.lastState = state;
    void this.view?.webview.postMessage({ type: 'state', state } satisfies ToWebview);
  }

  private markdown(key: string, source: string): string {
    const cached = this.cache.get(key);
    if (cached?.source === source) return cached.html;
    const html = renderMarkdown(source);
    this.cache.set(key, { source, html });
    return html;
  }

  private render(entry: ChatEntry): RenderedEntry {
    if (entry.kind === 'notice') return { key: entry.key, kind: 'notice', time: entry.time, html: escape(entry.text), status: entry.level };
    const common = {
      key: entry.key,
      author: entry.author.displayName,
      color: colorFor(entry.author.userId),
      own: entry.own,
      time: entry.time,
    };
    if (entry.kind === 'message') {
      return {
        ...common,
        kind: 'message',
        html: this.markdown(entry.key, entry.content),
        status: entry.status,
        ...(entry.error && { error: `${entry.error.message} (${entry.error.code})` }),
        ...(entry.clientMessageId && { clientMessageId: entry.clientMessageId }),
        ...(entry.own && { text: entry.content }),
      };
    }
    const ctx = entry.context;
    const lines = ctx?.line_start ? `:${ctx.line_start}${ctx.line_end && ctx.line_end !== ctx.line_start ? `-${ctx.line_end}` : ''}` : '';
    const about = ctx?.file ? `${ctx.file}${lines}` : undefined;
    const error =
      entry.status === 'failed'
        ? (entry.error?.message ?? 'the answer failed')
        : entry.status === 'cancelled'
          ? `Stopped${entry.cancelledBy ? ` by ${this.nameOf(entry.cancelledBy)}` : ''}.`
          : entry.status === 'interrupted'
            ? 'Interrupted: the connection dropped and the rest of the answer did not come.'
            : undefined;
    const feedback = this.feedback.forAnswer(entry.requestId);
    return {
      ...common,
      kind: 'ai',
      html: this.markdown(`${entry.key}:a`, entry.text),
      promptHtml: this.markdown(`${entry.key}:q`, entry.prompt),
      status: entry.status,
      requestId: entry.requestId,
      canCancel: (entry.status === 'streaming' || entry.status === 'asking') && this.chat.mayCancel(entry),
      canRate: entry.status === 'completed' && this.session.isActive,
      ...(feedback && { feedback: { ...feedback } }),
      ...(about && { about }),
      ...(entry.model && { model: entry.model }),
      ...(error && { error }),
    };
  }

  private nameOf(userId: string): string {
    if (userId === this.session.info?.userId) return 'you';
    return this.session.participants.find((p) => p.user_id === userId)?.display_name ?? userId;
  }

  private showBadge(): void {
    if (!this.view) return;
    this.view.badge = this.unreadCount > 0 ? { value: this.unreadCount, tooltip: `${this.unreadCount} new in the Tandem chat` } : undefined;
  }

  private html(webview: vscode.Webview): string {
    const nonce = randomBytes(16).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.assets, 'chat-view.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.assets, 'chat-view.css'));
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource} 'nonce-${nonce}'`,
      `img-src ${webview.cspSource} data:`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}" nonce="${nonce}">
<title>Tandem Chat</title>
</head>
<body>
<main id="chat">
  <ol id="messages" role="log" aria-live="polite" aria-relevant="additions text" aria-label="Chat messages"></ol>
  <p id="typing" aria-live="polite"></p>
  <p id="status" role="status"></p>
  <form id="composer" aria-label="Write a message">
    <textarea id="input" rows="2" placeholder="Message (Markdown) or /ai question"
      aria-label="Message (Enter sends, Shift+Enter new line, /ai asks the AI, Up recalls your last message, Escape leaves)"></textarea>
    <div class="composer-actions">
      <button type="submit" id="send" title="Send (Enter)">Send</button>
      <button type="button" id="ask" class="secondary" title="Ask the relay's AI model; everyone sees the answer">Ask AI</button>
    </div>
  </form>
</main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.handled.dispose();
  }
}

function escape(text: string): string {
  return text.replace(/&/gu, '&amp;').replace(/</gu, '&lt;').replace(/>/gu, '&gt;');
}
