/**
 * Presence in VS Code against a real relay: a guest's cursor is drawn in the host's editor with
 * the guest's name, our selections reach the guest in wire offsets, Follow opens the file the
 * guest moves to, and typing stops following. The shared documents are registered the way the
 * collaborative-editing layer does it (a plain LF file, so wire and editor offsets agree).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, type CursorPayload, RelayClient, type TextOp } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import type { SharedDocument } from '../../../extension/presence/shared-documents';
import type { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';
import { endHostedSession, hostLiveSession } from '../support/hosted-session';

const transport = createNodeWsTransport(WebSocket);

/** A shared document as the collab layer registers one: here an LF file, offsets 1:1. */
function shareFile(textDocument: vscode.TextDocument, id: string): SharedDocument & vscode.Disposable {
  const changed = new vscode.EventEmitter<{ op: TextOp; local: boolean }>();
  const listener = vscode.workspace.onDidChangeTextDocument((event) => {
    if (event.document !== textDocument) return;
    for (const change of event.contentChanges) {
      const op: TextOp = [];
      if (change.rangeOffset > 0) op.push(change.rangeOffset);
      if (change.text) op.push(change.text);
      if (change.rangeLength > 0) op.push({ d: 'x'.repeat(change.rangeLength) });
      changed.fire({ op, local: true });
    }
  });
  return {
    id,
    textDocument,
    revision: 0,
    toWire: (offset) => offset,
    fromWire: (offset) => offset,
    onDidChangeText: changed.event,
    dispose: () => {
      listener.dispose();
      changed.dispose();
    },
  };
}

suite('presence: cursors and follow', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let guest: RelayClient;
  const cleanup: vscode.Disposable[] = [];
  const guestCursors: Array<{ user: string; payload: CursorPayload }> = [];
  let folder: string;

  suiteSetup(async () => {
    ({ relay, api } = await hostLiveSession());

    folder = mkdtempSync(join(tmpdir(), 'tandem-presence-'));
    writeFileSync(join(folder, 'a.txt'), 'alpha line one\nalpha line two\n');
    writeFileSync(join(folder, 'b.txt'), 'bravo\n'.repeat(200));
    for (const [file, id] of [
      ['a.txt', 'a.txt'],
      ['b.txt', 'b.txt'],
    ] as const) {
      const document = await vscode.workspace.openTextDocument(join(folder, file));
      const shared = shareFile(document, id);
      cleanup.push(shared, api.documents.register(shared));
      api.session.client!.send('collaboration.open', { document: id, text: document.getText() });
    }

    const invite = new URL(api.session.info!.invites!.editor.link).searchParams.get('invite')!;
    const response = await fetch(`${relay.httpUrl}/api/invites/redeem`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ invite, name: 'Gus' }),
    });
    const redeemed = (await response.json()) as { token: string; ws_url: string };
    guest = new RelayClient({ url: redeemed.ws_url, token: redeemed.token, transport });
    guest.on('collaboration.cursor', (payload, frame) => guestCursors.push({ user: frame.user_id, payload }));
    guest.connect();
    await eventually(
      () => guest.state === 'open',
      () => `the guest to connect (${guest.state})`,
    );
    for (const document of ['a.txt', 'b.txt']) guest.send('collaboration.open', { document });
    await eventually(
      () => api.session.participants.length === 2,
      () => `two participants (${api.session.participants.length})`,
    );
  });

  suiteTeardown(async () => {
    guest?.dispose();
    for (const disposable of cleanup) disposable.dispose();
    await endHostedSession(api, relay);
  });

  test('a guest’s cursor and selection are drawn in the editor with their name', async () => {
    const editor = await vscode.window.showTextDocument(api.documents.get('a.txt')!.textDocument);
    guest.send('collaboration.cursor', { document: 'a.txt', selections: [{ anchor: 6, head: 10 }] });
    await eventually(
      () => api.cursors.drawnIn(editor).some((c) => c.label === 'Gus' && c.selections[0]?.anchor === 6 && c.selections[0]?.head === 10),
      () => `Gus's selection 6..10 drawn; drawn: ${JSON.stringify(api.cursors.drawnIn(editor))}`,
    );
    assert.equal(api.cursors.get(guest.connection!.user.user_id)?.documentId, 'a.txt');
  });

  test('a remote cursor moves with the text until its next update', async () => {
    const editor = await vscode.window.showTextDocument(api.documents.get('a.txt')!.textDocument);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), '>> '));
    await eventually(
      () => api.cursors.drawnIn(editor).some((c) => c.label === 'Gus' && c.selections[0]?.anchor === 9 && c.selections[0]?.head === 13),
      () => `Gus's selection moved to 9..13; drawn: ${JSON.stringify(api.cursors.drawnIn(editor))}`,
    );
  });

  test('our selections reach the others in wire offsets, with the document and revision', async () => {
    const editor = await vscode.window.showTextDocument(api.documents.get('a.txt')!.textDocument);
    const before = guestCursors.length;
    editor.selection = new vscode.Selection(new vscode.Position(1, 0), new vscode.Position(1, 5));
    const expectedAnchor = editor.document.offsetAt(new vscode.Position(1, 0));
    await eventually(
      () =>
        guestCursors
          .slice(before)
          .some((c) => c.user === 'hana' && c.payload.document === 'a.txt' && c.payload.selections[0]?.anchor === expectedAnchor),
      () => `the guest to get hana's selection at ${expectedAnchor}; got ${JSON.stringify(guestCursors.slice(before))}`,
    );
  });

  test('Follow opens the file the followed participant moves to, and typing stops following', async () => {
    const gus = guest.connection!.user.user_id;
    await vscode.commands.executeCommand('tandem.followParticipant', gus);
    assert.equal(api.follow.following, gus);
    guest.send('collaboration.cursor', { document: 'b.txt', selections: [{ anchor: 900, head: 900 }] });
    await eventually(
      () => vscode.window.activeTextEditor?.document === api.documents.get('b.txt')!.textDocument,
      () => `b.txt to become the active editor (active: ${vscode.window.activeTextEditor?.document.uri.toString()})`,
    );
    const editor = vscode.window.activeTextEditor!;
    await eventually(
      () => editor.visibleRanges.some((range) => range.contains(editor.document.positionAt(900))),
      () => `Gus's cursor at offset 900 to be in view (visible: ${JSON.stringify(editor.visibleRanges)})`,
    );
    assert.match(api.statusBar.text, /following Gus/);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), 'typed'));
    await eventually(
      () => api.follow.following === undefined,
      () => 'following to stop after typing',
    );
    assert.doesNotMatch(api.statusBar.text, /following/);
  });
});
