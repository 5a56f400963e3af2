import type * as vscode from 'vscode';
import type { TextOp } from '../../protocol';

/**
 * What presence needs to know about a shared document (one relay OT document bound to one
 * VS Code text document): its relay id, where it lives, the wire <-> editor offset mapping (a
 * CRLF document's offsets differ from the `\n` wire text's), and the ops that change its text.
 * The collaborative-editing layer implements it; presence never touches the OT state itself.
 */
export interface SharedDocument {
  /** The relay's document id: the workspace-relative path with `/`. */
  readonly id: string;
  readonly textDocument: vscode.TextDocument;
  /** The relay revision the local text is based on (sent with cursors). */
  readonly revision: number;
  /** The epoch of that revision (sent with cursors: one of a lost epoch is dropped, not misplaced). */
  readonly epoch?: string;
  /** Editor offset -> wire offset. */
  toWire(offset: number): number;
  /** Wire offset -> editor offset. */
  fromWire(offset: number): number;
  /** Every change of the text, local or remote, as a wire op against the text before it. */
  readonly onDidChangeText: vscode.Event<{ op: TextOp; local: boolean }>;
}

export interface SharedDocuments {
  get(documentId: string): SharedDocument | undefined;
  forTextDocument(document: vscode.TextDocument): SharedDocument | undefined;
  /** Where a shared document opens in this window (a `tandem:` URI for a guest, the file for the host). */
  uriFor(documentId: string): vscode.Uri | undefined;
  readonly onDidOpen: vscode.Event<SharedDocument>;
  readonly onDidClose: vscode.Event<SharedDocument>;
}
