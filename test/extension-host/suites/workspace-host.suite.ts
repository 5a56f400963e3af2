/**
 * The host's file service inside VS Code (`vscode.workspace.fs`, a real file system watcher),
 * answering guests that are plain RelayClients through a real relay: listing, reading, writing,
 * creating, renaming and deleting; excluded files (`.env`, `.gitignore`d, `.git`) invisible and
 * untouchable; links out of the folder refused; viewers read-only; change events.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import type { RelayClient, WorkspaceChangedPayload } from '../../../protocol';
import type { ServedRequest } from '../../../extension/workspace/host-files';
import { WorkspaceClient, type WorkspaceError } from '../../../extension/workspace/workspace-client';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { connectClient, eventually, makeTree, removeTreeOnExit, TestHost } from '../support/shared-folder';

const big = new Uint8Array(randomBytes(300_000));

function code(expected: string) {
  return (error: WorkspaceError) => {
    assert.equal(error.code, expected, error.message);
    return true;
  };
}

suite('shared folder: the host file service', () => {
  let relay: TestRelay;
  let root: string;
  let outside: string;
  let host: TestHost;
  let editorClient: RelayClient;
  let viewerClient: RelayClient;
  let editor: WorkspaceClient;
  let viewer: WorkspaceClient;
  const changes: WorkspaceChangedPayload['changes'] = [];
  const served: ServedRequest[] = [];

  suiteSetup(async () => {
    relay = await startTestRelay();
    outside = makeTree({ 'secret.txt': 'outside the shared folder', 'dir/inner.txt': 'also outside' }, 'tandem-outside-');
    root = makeTree({
      'README.md': '# shared\n',
      'src/app.ts': 'export const answer = 42;\n',
      'src/big.bin': big,
      '.env': 'TOKEN=hunter2\n',
      'certs/server.pem': '-----BEGIN-----',
      '.gitignore': 'build/\n*.log\n',
      'build/out.js': 'compiled',
      'debug.log': 'log line',
      'sub/.gitignore': 'local.txt\n',
      'sub/local.txt': 'mine only',
      'sub/shared.txt': 'everyone',
      '.git/config': '[core]',
      'link-out': { symlink: join(outside, 'secret.txt') },
      'linkdir-out': { symlink: join(outside, 'dir') },
      'link-in': { symlink: 'src/app.ts' },
      'tree/a/b.txt': 'b',
      'tree/keep.txt': 'k',
      'mixed/visible.txt': 'v',
      'mixed/.env': 'HIDDEN=1',
      '.vscode/tasks.json': '{"version":"2.0.0"}',
      'app/.devcontainer/devcontainer.json': '{}',
      'app/main.txt': 'main',
      // Secrets the default exclusions keep (environment variants, keys, credentials), and a
      // Unicode look-alike of one (KELVIN SIGN): on a case-insensitive disk it is `secret.key`.
      '.env.local': 'LOCAL=1',
      'config/.env.production': 'PROD=1',
      'keys/id_ed25519': 'PRIVATE',
      'keys/cert.p12': 'PKCS12',
      '.aws/credentials': '[default]',
      '.npmrc': '//registry.npmjs.org/:_authToken=x',
      'secret.\u212Aey': 'look-alike',
      // Files that run code on the host: read-only for guests by default.
      '.devcontainer.json': '{}',
      'team.code-workspace': '{}',
      '.gitattributes': '*.txt text\n',
      // What the root .gitignore hides, and a folder with a nested .gitignore of its own.
      'app.log': 'secret log',
      'nested/.gitignore': '',
      'nested/notes.txt': 'n',
    });
    const hostClient = await connectClient(relay.url, relay.token({ user: 'hana', role: 'host' }));
    editorClient = await connectClient(relay.url, relay.token({ user: 'eve', role: 'editor' }));
    viewerClient = await connectClient(relay.url, relay.token({ user: 'vera', role: 'viewer' }));
    const viewerId = viewerClient.connection!.connection_id;
    host = new TestHost(root, hostClient, undefined, (id) => (id === viewerId ? 'viewer' : 'editor'));
    host.service.onDidServe((request) => served.push(request));
    editor = new WorkspaceClient(editorClient);
    viewer = new WorkspaceClient(viewerClient);
    editorClient.on('workspace.changed', (payload) => changes.push(...payload.changes));
  });

  suiteTeardown(async () => {
    editor?.dispose();
    viewer?.dispose();
    editorClient?.dispose();
    viewerClient?.dispose();
    host?.dispose();
    await relay?.stop();
    removeTreeOnExit(root);
    removeTreeOnExit(outside);
  });

  test('lists the folder without what is not shared, and names it', async () => {
    const names = async (path: string) => (await editor.readDirectory(path)).map((e) => e.name).sort();
    assert.deepEqual(await names(''), [
      '.devcontainer.json',
      '.gitattributes',
      '.gitignore',
      '.vscode',
      'README.md',
      'app',
      'certs',
      'config',
      'keys',
      'link-in',
      'mixed',
      'nested',
      'src',
      'sub',
      'team.code-workspace',
      'tree',
    ]);
    assert.deepEqual(await names('config'), []);
    assert.deepEqual(await names('keys'), []);
    assert.deepEqual(await names('sub'), ['.gitignore', 'shared.txt']);
    assert.deepEqual(await names('certs'), []);
    const entries = await editor.readDirectory('');
    assert.deepEqual(
      entries.find((e) => e.name === 'src'),
      { name: 'src', type: 'directory' },
    );
    assert.deepEqual(
      entries.find((e) => e.name === 'link-in'),
      { name: 'link-in', type: 'file', symlink: true },
    );
    const stat = await editor.stat('');
    assert.equal(stat.type, 'directory');
    assert.equal(stat.name, basename(root));
  });

  test('reads files byte for byte, a large one in pieces', async () => {
    assert.equal(new TextDecoder().decode(await editor.readFile('src/app.ts')), 'export const answer = 42;\n');
    assert.deepEqual(await editor.readFile('src/big.bin'), big);
    assert.equal((await editor.stat('src/big.bin')).size, big.length);
    assert.equal(
      new TextDecoder().decode(await editor.readFile('link-in')),
      'export const answer = 42;\n',
      'a link inside the folder is followed',
    );
    await assert.rejects(editor.readFile('src'), code('FileIsADirectory'));
    await assert.rejects(editor.readDirectory('README.md'), code('FileNotADirectory'));
    await assert.rejects(editor.readFile('nope.txt'), code('FileNotFound'));
    await eventually(
      () => served.some((r) => r.op === 'readFile' && r.path === 'src/app.ts' && r.userId === 'eve'),
      () => 'the served hook to report the read',
    );
  });

  test('keeps excluded files invisible and untouchable: not found to read, not shared to write', async () => {
    for (const path of [
      '.env',
      'debug.log',
      'build/out.js',
      'build',
      'sub/local.txt',
      '.git/config',
      '.git',
      'certs/server.pem',
      'mixed/.env',
      '.env.local',
      'config/.env.production',
      'keys/id_ed25519',
      'keys/cert.p12',
      '.aws/credentials',
      '.aws',
      '.npmrc',
      'secret.\u212Aey',
    ]) {
      await assert.rejects(editor.stat(path), code('FileNotFound'), path);
      await assert.rejects(editor.readFile(path), code('FileNotFound'), path);
    }
    await assert.rejects(editor.readDirectory('build'), code('FileNotFound'));
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['.env', () => editor.writeFile('.env', new Uint8Array([1]), { create: true, overwrite: true })],
      ['new.key', () => editor.writeFile('new.key', new Uint8Array([1]), { create: true, overwrite: false })],
      ['build/new.js', () => editor.writeFile('build/new.js', new Uint8Array([1]), { create: true, overwrite: false })],
      ['src/trace.log', () => editor.writeFile('src/trace.log', new Uint8Array([1]), { create: true, overwrite: false })],
      ['.git/hooks/pre-commit', () => editor.writeFile('.git/hooks/pre-commit', new Uint8Array([1]), { create: true, overwrite: true })],
      ['build/dir', () => editor.createDirectory('build/dir')],
      ['a file over the build folder', () => editor.writeFile('build', new Uint8Array([1]), { create: true, overwrite: true })],
      ['rename onto the build folder', () => editor.rename('README.md', 'build', true)],
      ['rename to .env', () => editor.rename('README.md', 'config/.env', true)],
      ['rename .env', () => editor.rename('.env', 'env.txt', false)],
      ['delete .env', () => editor.delete('.env', false)],
      ['delete a folder holding .env', () => editor.delete('mixed', true)],
      ['move a folder holding .env', () => editor.rename('mixed', 'moved', false)],
    ];
    for (const [label, write] of writes) await assert.rejects(write(), code('NoPermissions'), label);
    assert.equal(readFileSync(join(root, '.env'), 'utf8'), 'TOKEN=hunter2\n');
    assert.ok(existsSync(join(root, 'mixed', '.env')) && existsSync(join(root, 'README.md')));
    for (const path of ['new.key', 'build/new.js', 'src/trace.log', '.git/hooks/pre-commit', 'build/dir', 'env.txt', 'moved'])
      assert.ok(!existsSync(join(root, path)), path);
  });

  test('lets guests read .vscode and .devcontainer but never change them (tasks and dev containers run code on the host)', async () => {
    assert.equal((await editor.stat('.vscode/tasks.json')).readonly, true);
    assert.equal((await editor.stat('app/.devcontainer')).readonly, true);
    assert.equal((await editor.stat('app/main.txt')).readonly, undefined);
    assert.equal(new TextDecoder().decode(await editor.readFile('.vscode/tasks.json')), '{"version":"2.0.0"}');
    const writes: Array<[string, () => Promise<unknown>]> = [
      [
        'overwrite tasks.json',
        () => editor.writeFile('.vscode/tasks.json', new TextEncoder().encode('{"tasks":[]}'), { create: false, overwrite: true }),
      ],
      ['create in .vscode', () => editor.writeFile('.vscode/launch.json', new Uint8Array([1]), { create: true, overwrite: false })],
      [
        'create in a nested .devcontainer',
        () => editor.writeFile('app/.devcontainer/Dockerfile', new Uint8Array([1]), { create: true, overwrite: false }),
      ],
      ['a folder in .vscode', () => editor.createDirectory('.vscode/more')],
      ['delete tasks.json', () => editor.delete('.vscode/tasks.json', false)],
      ['delete .vscode', () => editor.delete('.vscode', true)],
      ['rename tasks.json', () => editor.rename('.vscode/tasks.json', 'tasks.json', false)],
      ['move a file into .vscode', () => editor.rename('README.md', '.vscode/README.md', false)],
      ['delete a folder holding .devcontainer', () => editor.delete('app', true)],
      ['move a folder holding .devcontainer', () => editor.rename('app', 'application', false)],
    ];
    for (const [label, write] of writes) await assert.rejects(write(), code('NoPermissions'), label);
    assert.equal(readFileSync(join(root, '.vscode', 'tasks.json'), 'utf8'), '{"version":"2.0.0"}');
    for (const path of [
      '.vscode/launch.json',
      'app/.devcontainer/Dockerfile',
      '.vscode/more',
      'tasks.json',
      '.vscode/README.md',
      'application',
    ])
      assert.ok(!existsSync(join(root, path)), path);
    assert.ok(existsSync(join(root, 'README.md')) && existsSync(join(root, 'app', 'main.txt')));
  });

  test('keeps every .gitignore read-only, so that no guest can switch an exclusion off', async () => {
    // The attack: an editor empties the root .gitignore, or re-includes a file with `!name` in a
    // nested one (new or existing), and what was ignored becomes readable to every guest.
    assert.equal((await editor.stat('.gitignore')).readonly, true);
    assert.equal((await editor.stat('sub/.gitignore')).readonly, true);
    const empty = new Uint8Array(0);
    const reinclude = new TextEncoder().encode('!local.txt\n!debug.log\n');
    const writes: Array<[string, () => Promise<unknown>]> = [
      ['empty the root .gitignore', () => editor.writeFile('.gitignore', empty, { create: false, overwrite: true })],
      ['re-include in a nested .gitignore', () => editor.writeFile('sub/.gitignore', reinclude, { create: false, overwrite: true })],
      ['a new nested .gitignore', () => editor.writeFile('src/.gitignore', reinclude, { create: true, overwrite: false })],
      [
        'a new .GITIGNORE (the same file on a case-insensitive disk)',
        () => editor.writeFile('src/.GITIGNORE', reinclude, { create: true, overwrite: false }),
      ],
      ['delete the root .gitignore', () => editor.delete('.gitignore', false)],
      ['rename the nested .gitignore away', () => editor.rename('sub/.gitignore', 'sub/gitignore.txt', false)],
      ['rename a file onto a .gitignore', () => editor.rename('README.md', 'sub/.gitignore', true)],
      ['delete a folder holding a .gitignore', () => editor.delete('nested', true)],
      ['move a folder holding a .gitignore', () => editor.rename('nested', 'elsewhere', false)],
    ];
    for (const [label, write] of writes) await assert.rejects(write(), code('NoPermissions'), label);
    assert.equal(readFileSync(join(root, '.gitignore'), 'utf8'), 'build/\n*.log\n');
    assert.equal(readFileSync(join(root, 'sub', '.gitignore'), 'utf8'), 'local.txt\n');
    for (const path of ['src/.gitignore', 'src/.GITIGNORE', 'sub/gitignore.txt', 'elsewhere'])
      assert.ok(!existsSync(join(root, path)), path);
    for (const path of ['sub/local.txt', 'debug.log', 'app.log'])
      await assert.rejects(editor.readFile(path), code('FileNotFound'), `${path} stays hidden`);
  });

  test(
    'lets guests read the other files that run code on the host but never change them: .devcontainer.json, workspace files, ' +
      '.gitattributes',
    async () => {
      for (const path of ['.devcontainer.json', 'team.code-workspace', '.gitattributes']) {
        assert.equal((await editor.stat(path)).readonly, true, path);
        await assert.rejects(
          editor.writeFile(path, new TextEncoder().encode('{"x":1}'), { create: false, overwrite: true }),
          code('NoPermissions'),
          path,
        );
      }
      await assert.rejects(
        editor.writeFile('other.code-workspace', new Uint8Array([1]), { create: true, overwrite: false }),
        code('NoPermissions'),
      );
      await assert.rejects(
        editor.writeFile('src/.gitattributes', new TextEncoder().encode('* filter=evil\n'), { create: true, overwrite: false }),
        code('NoPermissions'),
      );
      assert.equal(readFileSync(join(root, '.gitattributes'), 'utf8'), '*.txt text\n');
      for (const path of ['other.code-workspace', 'src/.gitattributes']) assert.ok(!existsSync(join(root, path)), path);
    },
  );

  test('refuses what leads out of the folder', async () => {
    await assert.rejects(editor.stat('link-out'), code('FileNotFound'));
    await assert.rejects(editor.readFile('link-out'), code('FileNotFound'));
    await assert.rejects(editor.readDirectory('linkdir-out'), code('FileNotFound'));
    await assert.rejects(editor.readFile('linkdir-out/inner.txt'), code('FileNotFound'));
    await assert.rejects(
      editor.writeFile('linkdir-out/planted.txt', new Uint8Array([1]), { create: true, overwrite: false }),
      code('NoPermissions'),
    );
    await assert.rejects(editor.writeFile('link-out', new Uint8Array([1]), { create: false, overwrite: true }), code('NoPermissions'));
    assert.ok(!existsSync(join(outside, 'dir', 'planted.txt')));
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'outside the shared folder');
    // Malformed paths never get past the relay; the host refuses them on its own too.
    for (const path of ['../x', '/etc/passwd', 'a/../../x', 'a\\..\\..\\x'])
      assert.throws(() => host.folder.uriOf(path, 'read'), /no such file/, path);
  });

  test('writes, creates, renames and deletes as VS Code’s file system rules say', async () => {
    await assert.rejects(
      editor.writeFile('notes/new.txt', new TextEncoder().encode('x'), { create: true, overwrite: false }),
      code('FileNotFound'),
      'no parent folder',
    );
    await editor.createDirectory('notes');
    await assert.rejects(editor.createDirectory('notes'), code('FileExists'));
    await editor.writeFile('notes/new.txt', new TextEncoder().encode('first'), { create: true, overwrite: false });
    assert.equal(readFileSync(join(root, 'notes', 'new.txt'), 'utf8'), 'first');
    await assert.rejects(editor.writeFile('notes/new.txt', new Uint8Array([1]), { create: true, overwrite: false }), code('FileExists'));
    await assert.rejects(
      editor.writeFile('notes/missing.txt', new Uint8Array([1]), { create: false, overwrite: true }),
      code('FileNotFound'),
    );
    await editor.writeFile('notes/new.txt', new TextEncoder().encode('second'), { create: false, overwrite: true });
    assert.equal(readFileSync(join(root, 'notes', 'new.txt'), 'utf8'), 'second');

    const upload = new Uint8Array(randomBytes(200_000));
    await editor.writeFile('notes/upload.bin', upload, { create: true, overwrite: true });
    assert.deepEqual(new Uint8Array(readFileSync(join(root, 'notes', 'upload.bin'))), upload);

    await editor.rename('notes/new.txt', 'notes/renamed.txt', false);
    assert.ok(!existsSync(join(root, 'notes', 'new.txt')) && existsSync(join(root, 'notes', 'renamed.txt')));
    await assert.rejects(editor.rename('notes/renamed.txt', 'README.md', false), code('FileExists'));
    await editor.rename('tree', 'forest', false);
    assert.equal(readFileSync(join(root, 'forest', 'a', 'b.txt'), 'utf8'), 'b');

    await editor.delete('notes/renamed.txt', false);
    assert.ok(!existsSync(join(root, 'notes', 'renamed.txt')));
    await assert.rejects(editor.delete('forest', false), code('NoPermissions'), 'not empty');
    await editor.delete('forest', true);
    assert.ok(!existsSync(join(root, 'forest')));
    await assert.rejects(editor.delete('forest', true), code('FileNotFound'));
  });

  test('lets a viewer read and nothing else (the relay refuses, the host too)', async () => {
    assert.equal(new TextDecoder().decode(await viewer.readFile('README.md')), '# shared\n');
    assert.ok((await viewer.readDirectory('')).length > 0);
    await assert.rejects(viewer.writeFile('README.md', new Uint8Array([1]), { create: false, overwrite: true }), code('NoPermissions'));
    await assert.rejects(viewer.delete('README.md', false), code('NoPermissions'));
    await assert.rejects(viewer.createDirectory('viewer-dir'), code('NoPermissions'));
    assert.equal(readFileSync(join(root, 'README.md'), 'utf8'), '# shared\n');
  });

  test('tells guests what changes in the folder, never what is excluded', async function () {
    // The file watcher's events come in their own time on a busy machine.
    this.timeout(90_000);
    const seen = (path: string) => changes.some((c) => c.path === path);
    writeFileSync(join(root, '.env'), 'TOKEN=changed\n');
    writeFileSync(join(root, 'server.key'), 'secret');
    mkdirSync(join(root, 'build', 'more'), { recursive: true });
    writeFileSync(join(root, 'build', 'more', 'x.js'), 'x');
    writeFileSync(join(root, 'src', 'created-on-disk.ts'), 'export {};\n');
    await eventually(
      () => seen('src/created-on-disk.ts'),
      () => `the new file in a workspace.changed event (got ${JSON.stringify(changes)})`,
      30_000,
    );
    writeFileSync(join(root, 'src', 'created-on-disk.ts'), 'export const changed = true;\n');
    await eventually(
      () => changes.some((c) => c.path === 'src/created-on-disk.ts' && c.type === 'changed'),
      () => `a change event (got ${JSON.stringify(changes)})`,
      30_000,
    );
    for (const path of ['.env', 'server.key', 'build', 'build/more', 'build/more/x.js']) assert.ok(!seen(path), `${path} was mentioned`);
  });
});
