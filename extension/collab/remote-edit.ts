/**
 * An op in wire coordinates as edits of an editor document: one replacement per run of inserts
 * and deletes (the op's normal form makes a run one insert and one delete), every range against
 * the document before the edit, as a `WorkspaceEdit` wants them.
 *
 * `vscode` is imported for types only and its constructors are passed in, so the pure part runs
 * in the node unit tests.
 */
import type * as vscode from 'vscode';
import { scanOp, type TextOp } from '../../protocol/ot';
import { type LineIndex, type LinePosition, positionAtWire, toDocumentText, wireLength } from './eol';

export interface Replacement {
  readonly start: LinePosition;
  readonly end: LinePosition;
  /** In the document's line ending. */
  readonly text: string;
}

/** The replacements that apply `op` (which applies to the document's wire text) to the document. Throws a RangeError if it does not fit. */
export function replacementsFor(op: TextOp, index: LineIndex): Replacement[] {
  scanOp(op);
  const out: Replacement[] = [];
  let pos = 0;
  let ins = '';
  let del = 0;
  const flush = () => {
    if (ins === '' && del === 0) return;
    const start = positionAtWire(index, pos);
    const end = del === 0 ? start : positionAtWire(index, pos + del);
    out.push({ start, end, text: toDocumentText(ins, index.crlf) });
    pos += del;
    ins = '';
    del = 0;
  };
  for (const c of op) {
    if (typeof c === 'number') {
      flush();
      pos += c;
    } else if (typeof c === 'string') {
      ins += c;
    } else {
      del += c.d.length;
    }
  }
  flush();
  const length = wireLength(index);
  if (pos > length) throw new RangeError(`the op spans ${pos} code units, more than the document's ${length}`);
  return out;
}

/** The constructors `toWorkspaceEdit` needs (the `vscode` module satisfies it). */
export interface EditApi {
  readonly WorkspaceEdit: typeof vscode.WorkspaceEdit;
  readonly Range: typeof vscode.Range;
}

/**
 * Entry metadata on every replacement, for VS Code's version check. Without it, when the document
 * is in the active editor, VS Code (1.100, `BulkTextEdits._createEditsTasks`) first makes the
 * edits "more minimal" in the editor worker (asynchronously) and re-adds them without the
 * document version they were made against, so a keystroke that lands meanwhile no longer gets
 * the edit refused: it is applied at stale positions. Edits with metadata are left as they are
 * and keep the version (`needsConfirmation: false`: no preview).
 */
export const EDIT_METADATA: vscode.WorkspaceEditEntryMetadata = { needsConfirmation: false, label: 'Tandem: shared edit' };

/** One `WorkspaceEdit` with the replacements, refused by VS Code if the document changed since it was made. */
export function toWorkspaceEdit(uri: vscode.Uri, replacements: readonly Replacement[], api: EditApi): vscode.WorkspaceEdit {
  const edit = new api.WorkspaceEdit();
  for (const r of replacements)
    edit.replace(uri, new api.Range(r.start.line, r.start.character, r.end.line, r.end.character), r.text, EDIT_METADATA);
  return edit;
}
