import * as vscode from 'vscode';
import type { SessionController } from '../session/session-controller';
import type { RemoteCursor, RemoteCursors } from './remote-cursors';
import type { SharedDocuments } from './shared-documents';

/**
 * Following a participant: your editor shows their file and keeps their cursor in view until
 * you stop, type, or they leave. "Go to" is the same, once.
 */
export class FollowMode implements vscode.Disposable {
  private followed: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<string | undefined>();
  /** The followed user id changed (undefined: no longer following). */
  readonly onDidChange = this.changed.event;
  /** Set while we move the editor ourselves. */
  private revealing = false;

  constructor(
    private readonly session: SessionController,
    private readonly cursors: RemoteCursors,
    private readonly documents: SharedDocuments,
  ) {
    this.disposables.push(
      this.changed,
      cursors.onDidChange((cursor) => {
        if (cursor && cursor.userId === this.followed) void this.reveal(cursor);
        if (!cursor && this.followed && !cursors.get(this.followed) && !this.isPresent(this.followed)) this.stop();
      }),
      // Typing stops following; the remote edits being applied do not (the collab layer tells them apart).
      documents.onDidOpen((document) =>
        this.disposables.push(
          document.onDidChangeText(({ local }) => {
            if (local && this.followed && !this.revealing) this.stop();
          }),
        ),
      ),
      session.onDidChange(() => {
        if (!session.isActive) this.stop();
      }),
    );
  }

  get following(): string | undefined {
    return this.followed;
  }

  follow(userId: string): void {
    this.followed = userId;
    this.changed.fire(userId);
    const cursor = this.cursors.get(userId);
    if (cursor) void this.reveal(cursor);
  }

  stop(): void {
    if (this.followed === undefined) return;
    this.followed = undefined;
    this.changed.fire(undefined);
  }

  /** Opens the participant's file at their cursor, once. False if they are in no shared file. */
  async goTo(userId: string): Promise<boolean> {
    const cursor = this.cursors.get(userId);
    if (!cursor) return false;
    await this.reveal(cursor);
    return true;
  }

  private isPresent(userId: string): boolean {
    return this.session.participants.some((p) => p.user_id === userId);
  }

  private async reveal(cursor: RemoteCursor): Promise<void> {
    const uri = this.documents.uriFor(cursor.documentId);
    if (!uri) return;
    this.revealing = true;
    try {
      const document = this.documents.get(cursor.documentId)?.textDocument ?? (await vscode.workspace.openTextDocument(uri));
      const editor = await vscode.window.showTextDocument(document, { preserveFocus: false, preview: true });
      const shared = this.documents.get(cursor.documentId);
      const head = cursor.selections[0]?.head ?? 0;
      const position = document.positionAt(shared ? shared.fromWire(head) : head);
      editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } finally {
      this.revealing = false;
    }
  }

  dispose(): void {
    for (const disposable of this.disposables) disposable.dispose();
  }
}
