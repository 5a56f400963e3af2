/**
 * The relay's limits, as the host meets them in the real extension: a file larger than
 * DOCUMENT_MAX_LENGTH is not shared and the host is told so; a paste that would make a shared
 * file larger than that is taken out of the editor with a warning, and the file stays shared and
 * in step (the relay has the editor's text).
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient, type ServerFrame } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import { mintToken } from '../../../relay/auth/tokens';
import type { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';
import { endHostedSession, hostLiveSession } from '../support/hosted-session';

const DIR = 'share-limits';
const BIG = `${DIR}/big.txt`;
const SMALL = `${DIR}/small.txt`;
const LIMIT = 1000;

suite('share limits: what the relay will not take, the host is told about, and nothing goes out of step', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let folder: string;
  const open = (path: string) => vscode.workspace.openTextDocument(vscode.Uri.file(join(folder, ...path.split('/'))));
  const shown = (text: string) => api.notifier.shown.find((n) => n.message.includes(text));

  suiteSetup(async () => {
    folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    mkdirSync(join(folder, DIR), { recursive: true });
    writeFileSync(join(folder, ...BIG.split('/')), 'b'.repeat(2 * LIMIT));
    writeFileSync(join(folder, ...SMALL.split('/')), 'small\n');
    ({ relay, api } = await hostLiveSession({ DOCUMENT_MAX_LENGTH: String(LIMIT) }));
  });

  suiteTeardown(async () => {
    await endHostedSession(api, relay);
    if (folder) rmSync(join(folder, DIR), { recursive: true, force: true });
  });

  test('a file larger than DOCUMENT_MAX_LENGTH is not shared, and the host is told which and why', async () => {
    await vscode.window.showTextDocument(await open(BIG), { preview: false });
    await eventually(
      () => shown(`${BIG} is not shared`) !== undefined,
      () => `the warning (shown: ${JSON.stringify(api.notifier.shown.map((n) => n.message))})`,
    );
    assert.equal(shown(`${BIG} is not shared`)!.severity, 'warning');
    assert.match(shown(`${BIG} is not shared`)!.message, /the limit is 1000/u);
    assert.equal(api.sessionDocuments.binding(BIG), undefined);
  });

  test('a paste past the limit into a shared file is taken out of the editor with a warning; the file stays in step', async () => {
    const document = await open(SMALL);
    const editor = await vscode.window.showTextDocument(document, { preview: false });
    await eventually(
      () => api.sessionDocuments.binding(SMALL) !== undefined,
      () => `${SMALL} to be shared`,
    );
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), 'P'.repeat(2 * LIMIT)));
    await eventually(
      () => shown(`your change to ${SMALL} could not be shared`) !== undefined && document.getText() === 'small\n',
      () => `the paste taken out (text: ${document.getText().length} characters)`,
    );
    await editor.edit((e) => e.insert(new vscode.Position(1, 0), 'after\n'));
    // A second participant sees what the relay has: the host's text, without the paste.
    const token = mintToken(relay.secret, { user: 'guest', sessions: [api.session.info!.sessionId], role: 'viewer', ttl: '1h' });
    const frames: ServerFrame[] = [];
    const guest = new RelayClient({ url: relay.url, token, transport: createNodeWsTransport(WebSocket) });
    guest.onFrame((frame) => frames.push(frame));
    guest.connect();
    try {
      await eventually(
        () => guest.state === 'open',
        () => 'the guest to connect',
      );
      guest.send('collaboration.open', { document: SMALL, create: false });
      await eventually(
        () => frames.some((f) => f.event_type === 'collaboration.snapshot' && f.payload.text === 'small\nafter\n'),
        () => `the relay to have the host's text (${JSON.stringify(frames.filter((f) => f.event_type !== 'session.joined').slice(-3))})`,
      );
    } finally {
      guest.dispose();
    }
  });
});
