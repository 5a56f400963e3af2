import * as vscode from 'vscode';
import type { SessionController } from '../session/session-controller';
import type { SharedDocument, SharedDocuments } from './shared-documents';

/**
 * The shared documents of this window: the collaborative-editing layer registers each bound
 * document here; presence (cursors, follow) looks them up. A document's place in this window
 * follows from the session: the host's own workspace folder, or the guest's `tandem://<session>/`
 * folder served through the relay.
 */
export class SharedDocumentRegistry implements SharedDocuments, vscode.Disposable {
  private readonly byId = new Map<string, SharedDocument>();
  private readonly opened = new vscode.EventEmitter<SharedDocument>();
  private readonly closed = new vscode.EventEmitter<SharedDocument>();
  readonly onDidOpen = this.opened.event;
  readonly onDidClose = this.closed.event;

  constructor(private readonly session: SessionController) {}

  /** Adds a bound document; dispose the result when it is unbound. */
  register(document: SharedDocument): vscode.Disposable {
    this.byId.set(document.id, document);
    this.opened.fire(document);
    return new vscode.Disposable(() => {
      if (this.byId.get(document.id) !== document) return;
      this.byId.delete(document.id);
      this.closed.fire(document);
    });
  }

  get(documentId: string): SharedDocument | undefined {
    return this.byId.get(documentId);
  }

  forTextDocument(textDocument: vscode.TextDocument): SharedDocument | undefined {
    for (const document of this.byId.values()) if (document.textDocument === textDocument) return document;
    return undefined;
  }

  get all(): SharedDocument[] {
    return [...this.byId.values()];
  }

  uriFor(documentId: string): vscode.Uri | undefined {
    const existing = this.byId.get(documentId);
    if (existing) return existing.textDocument.uri;
    const info = this.session.info;
    if (!info) return undefined;
    if (info.role === 'host') {
      const folder = vscode.workspace.workspaceFolders?.[0];
      return folder && vscode.Uri.joinPath(folder.uri, ...documentId.split('/'));
    }
    return vscode.Uri.from({ scheme: 'tandem', authority: info.sessionId, path: `/${documentId}` });
  }

  dispose(): void {
    this.byId.clear();
    this.opened.dispose();
    this.closed.dispose();
  }
}
