/**
 * The guest's side in VS Code: this window joins a session (Tandem: Join Session with an invite
 * link) whose host is the host file service on a temp folder, run by the suite in this same
 * extension host on its own RelayClient. The `tandem:` file system is then used as VS Code uses
 * it: `vscode.workspace.fs`, a text editor that saves, and a viewer's read-only copy.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { TandemApi } from '../../../extension/extension';
import { OtPeer } from '../../support/ot-peer';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { textType } from '../../../protocol';
import {
  connectClient,
  createSession,
  type CreatedSession,
  eventually,
  makeTree,
  removeTreeOnExit,
  TestHost,
} from '../support/shared-folder';

/** Rejects with a `vscode.FileSystemError` of this kind. */
async function rejectsWith(promise: Thenable<unknown>, kind: string, what: string): Promise<void> {
  await assert.rejects(Promise.resolve(promise), (error: unknown) => {
    assert.ok(error instanceof vscode.FileSystemError, `${what}: ${String(error)}`);
    assert.equal(error.code, kind, `${what}: ${error.message}`);
    return true;
  });
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytes = (value: string) => new TextEncoder().encode(value);

suite('shared folder: the guest file system', () => {
  let relay: TestRelay;
  let root: string;
  let host: TestHost;
  let api: TandemApi;
  let created: CreatedSession;
  const uri = (path: string) => vscode.Uri.from({ scheme: 'tandem', authority: created.session_id, path: `/${path}` });
  const state = () => `state ${api.session.state} (${api.session.endReason ?? '-'})`;

  async function joinAs(role: 'editor' | 'viewer'): Promise<void> {
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await vscode.commands.executeCommand('tandem.joinSession', created.invites[role].link);
    await eventually(() => api.session.state === 'live', state);
    assert.equal(api.session.info?.role, role);
  }

  suiteSetup(async () => {
    relay = await startTestRelay();
    // Plain text, not TypeScript: opening a .ts file starts the TypeScript server, whose watchers
    // on large folders were seen to leave a file watcher started right after silent (code-server
    // 4.100.3), and the next suite's host relies on one.
    root = makeTree({
      'hello.txt': 'hello from the host\n',
      'shared.txt': 'one\n',
      'src/main.txt': 'console.log(1);\n',
      '.env': 'SECRET=1\n',
      '.gitignore': 'dist/\n',
      'dist/bundle.js': 'built',
    });
    created = await createSession(relay);
    host = new TestHost(root, await connectClient(relay.url, created.host.token));
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    await joinAs('editor');
  });

  suiteTeardown(async () => {
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    host?.dispose();
    await relay?.stop();
    removeTreeOnExit(root);
  });

  test('reads the host’s folder through vscode.workspace.fs, without what is not shared', async () => {
    assert.equal(text(await vscode.workspace.fs.readFile(uri('hello.txt'))), 'hello from the host\n');
    const names = (await vscode.workspace.fs.readDirectory(uri(''))).map(([name]) => name).sort();
    assert.deepEqual(names, ['.gitignore', 'hello.txt', 'shared.txt', 'src']);
    assert.deepEqual(await vscode.workspace.fs.readDirectory(uri('src')), [['main.txt', vscode.FileType.File]]);
    const stat = await vscode.workspace.fs.stat(uri('hello.txt'));
    assert.equal(stat.type, vscode.FileType.File);
    assert.equal(stat.size, 'hello from the host\n'.length);
    assert.equal(stat.permissions, undefined, 'an editor may write');
    await rejectsWith(vscode.workspace.fs.readFile(uri('.env')), 'FileNotFound', '.env');
    await rejectsWith(vscode.workspace.fs.stat(uri('dist/bundle.js')), 'FileNotFound', 'a .gitignored file');
    await rejectsWith(vscode.workspace.fs.writeFile(uri('.env'), bytes('SECRET=stolen')), 'NoPermissions', 'writing .env');
    assert.equal(readFileSync(join(root, '.env'), 'utf8'), 'SECRET=1\n');
    // A single-folder window restarts to add a folder: the guest is asked first, so nothing changed here yet.
    assert.ok(!(vscode.workspace.workspaceFolders ?? []).some((f) => f.uri.scheme === 'tandem'));
  });

  test('shows the host’s .gitignore read-only and cannot change it, so what it hides stays hidden', async () => {
    // The attack: a guest empties the .gitignore through its Explorer and `dist/` becomes readable.
    assert.equal((await vscode.workspace.fs.stat(uri('.gitignore'))).permissions, vscode.FilePermission.Readonly);
    await rejectsWith(vscode.workspace.fs.writeFile(uri('.gitignore'), bytes('')), 'NoPermissions', 'emptying .gitignore');
    await rejectsWith(
      vscode.workspace.fs.writeFile(uri('src/.gitignore'), bytes('!bundle.js\n')),
      'NoPermissions',
      'a new nested .gitignore',
    );
    await rejectsWith(vscode.workspace.fs.delete(uri('.gitignore')), 'NoPermissions', 'deleting .gitignore');
    assert.equal(readFileSync(join(root, '.gitignore'), 'utf8'), 'dist/\n');
    await rejectsWith(vscode.workspace.fs.stat(uri('dist/bundle.js')), 'FileNotFound', 'the ignored file');
  });

  test('writes, creates, renames and deletes on the host’s disk', async () => {
    await vscode.workspace.fs.writeFile(uri('notes.md'), bytes('# from the guest\n'));
    assert.equal(readFileSync(join(root, 'notes.md'), 'utf8'), '# from the guest\n');
    await vscode.workspace.fs.createDirectory(uri('docs/deep'));
    await vscode.workspace.fs.rename(uri('notes.md'), uri('docs/deep/notes.md'));
    assert.equal(readFileSync(join(root, 'docs', 'deep', 'notes.md'), 'utf8'), '# from the guest\n');
    await vscode.workspace.fs.delete(uri('docs'), { recursive: true });
    assert.ok(!existsSync(join(root, 'docs')));
    await rejectsWith(vscode.workspace.fs.stat(uri('docs')), 'FileNotFound', 'the deleted folder');
  });

  test('opens a shared file in an editor, saves it to the host, and follows the host’s changes', async function () {
    // The host's file watcher reports in its own time on a busy machine.
    this.timeout(90_000);
    const document = await vscode.workspace.openTextDocument(uri('src/main.txt'));
    assert.equal(document.getText(), 'console.log(1);\n');
    const editor = await vscode.window.showTextDocument(document);
    assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(1, 0), 'console.log(2);\n')));
    assert.ok(await document.save(), 'saved');
    assert.equal(readFileSync(join(root, 'src', 'main.txt'), 'utf8'), 'console.log(1);\nconsole.log(2);\n');

    // The host changes it on disk: the watcher tells the guest, and VS Code reloads the clean document.
    writeFileSync(join(root, 'src', 'main.txt'), 'console.log("host");\n');
    await eventually(
      () => document.getText() === 'console.log("host");\n',
      () => `the document to follow the host (it reads ${JSON.stringify(document.getText())})`,
      30_000,
    );
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test(
    'a save by anyone is the save of the file: the guest’s editor turns clean when the host saves its text, and its own save never ' +
      'conflicts',
    async function () {
      this.timeout(90_000);
      const path = join(root, 'shared.txt');
      // The host's side of the shared document (the extension's host shares the files it opens).
      const hostDoc = new OtPeer(relay.url, created.host.token, 'host-shared', 'shared.txt', 'one\n');
      // VS Code in a browser saves after a delay by default: off, so that only a save makes it clean.
      const files = vscode.workspace.getConfiguration('files');
      await files.update('autoSave', 'off', vscode.ConfigurationTarget.Global);
      try {
        await hostDoc.start();
        const document = await vscode.workspace.openTextDocument(uri('shared.txt'));
        await vscode.window.showTextDocument(document);
        await eventually(
          () => api.sessionDocuments.binding('shared.txt') !== undefined,
          () => 'the guest to join the shared document',
        );
        const binding = api.sessionDocuments.binding('shared.txt')!;

        // The host types: the guest's editor has changes the disk does not have yet (dirty, as the host's).
        hostDoc.edit(textType.fromChange(4, '', 'two\n'));
        await eventually(
          () => document.getText() === 'one\ntwo\n',
          () => `the host's edit: ${JSON.stringify(document.getText())}`,
        );
        assert.ok(document.isDirty);
        // The host saves another text than the guest shows (its next edit is still on its way): still dirty.
        writeFileSync(path, 'one\ntwo\nthree\n');
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.ok(document.isDirty, 'not clean while the texts differ');
        // The host's edit arrives and the host saves that very text: the guest's editor is clean, and
        // nothing was written back (the host's file keeps its modification time).
        hostDoc.edit(textType.fromChange(8, '', 'three\n'));
        await eventually(
          () => binding.idle && document.getText() === 'one\ntwo\nthree\n',
          () => `the second edit: ${JSON.stringify(document.getText())}`,
        );
        writeFileSync(path, 'one\ntwo\nthree\n');
        const savedAt = statSync(path).mtimeMs;
        await eventually(
          () => !document.isDirty,
          () => 'the guest’s editor to turn clean after the host’s save',
          30_000,
        );
        assert.equal(statSync(path).mtimeMs, savedAt, 'the guest wrote nothing');

        // The host saves again after more edits; the guest then types and saves: no "file is newer"
        // conflict (the shared text is the content, whoever saved last), and the host's disk has it.
        hostDoc.edit(textType.fromChange(0, '', '0\n'));
        await eventually(
          () => document.getText().startsWith('0\n'),
          () => 'the third edit',
        );
        writeFileSync(path, 'zero on disk\n');
        const editor = await vscode.window.showTextDocument(document);
        assert.ok(await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), 'guest ')));
        await eventually(
          () => binding.idle && hostDoc.settled && hostDoc.text === document.getText(),
          () => 'the guest’s edit to be shared',
        );
        assert.ok(await document.save(), 'the guest’s save went through');
        assert.equal(readFileSync(path, 'utf8'), 'guest 0\none\ntwo\nthree\n');
        assert.ok(!document.isDirty);
        assert.equal(hostDoc.text, 'guest 0\none\ntwo\nthree\n');
        assert.equal(binding.stats.repairs, 0);
        await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
      } finally {
        await files.update('autoSave', undefined, vscode.ConfigurationTarget.Global);
        hostDoc.dispose();
      }
    },
  );

  test('gives a viewer a read-only folder (and the relay refuses its writes anyway)', async () => {
    await joinAs('viewer');
    const stat = await vscode.workspace.fs.stat(uri('hello.txt'));
    assert.equal(stat.permissions, vscode.FilePermission.Readonly);
    assert.equal(text(await vscode.workspace.fs.readFile(uri('hello.txt'))), 'hello from the host\n');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri('hello.txt'), bytes('vandalised'))));
    await assert.rejects(Promise.resolve(vscode.workspace.fs.delete(uri('hello.txt'))));
    assert.equal(readFileSync(join(root, 'hello.txt'), 'utf8'), 'hello from the host\n');
    const document = await vscode.workspace.openTextDocument(uri('hello.txt'));
    await vscode.window.showTextDocument(document);
    assert.equal(document.getText(), 'hello from the host\n');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('says the folder is unavailable once the session is left', async () => {
    api.session.leave();
    await eventually(() => api.session.state === 'ended', state);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.readFile(uri('hello.txt'))));
  });
});
