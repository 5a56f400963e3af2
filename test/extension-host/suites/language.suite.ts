/**
 * The host's language features and search, seen from a guest. This window joins a session as an
 * editor (Tandem: Join Session); the host is played by the suite in this same extension host: the
 * extension's own host services (file service, language service, diagnostics feed) on a small
 * TypeScript project in a temp folder, on a RelayClient of their own. The host answers with this
 * VS Code's built-in TypeScript support; the guest asks through its `tandem:` providers, as VS Code
 * does when someone hovers, presses F12 or opens the Problems view.
 */
import assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { LanguageRequestIn, LanguageRequestOut } from '../../../protocol';
import type { RelayClient } from '../../../protocol/client';
import type { TandemApi } from '../../../extension/extension';
import { DiagnosticsFeed } from '../../../extension/language/diagnostics-feed';
import type { LanguageQuestion } from '../../../extension/language/language-client';
import { LanguageHost } from '../../../extension/language/language-host';
import { DEFAULT_EXCLUDE, DEFAULT_READ_ONLY } from '../../../extension/workspace/default-rules';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient as PlainRelayClient, type ServerFrame } from '../../../protocol';
import { mintToken } from '../../../relay/auth/tokens';
import type { RelayProcess } from '../../support/relay-process';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { endHostedSession, hostLiveSession } from '../support/hosted-session';
import {
  connectClient,
  createSession,
  type CreatedSession,
  eventually,
  makeTree,
  removeTreeOnExit,
  TestHost,
} from '../support/shared-folder';

const UTIL = `export function greet(name: string): string {
  return \`hello \${name}\`;
}

export class Greeter {
  greet(): string {
    return greet('you');
  }
}
`;
// Line 3: `greet` at 31; line 4: `helper` at 21; line 5: the `.` after 'abc' at 26.
const MAIN = `import { greet } from './util';
import { helper } from '../vendor/lib';

export const message: string = greet('ana');
export const count = helper();
export const shout = 'abc'.toUpperCase();
`;
const LOGS = Object.fromEntries(
  Array.from({ length: 15 }, (_, i) => [`logs/run${i}.txt`, Array.from({ length: 200 }, (_, n) => `needle ${n}`).join('\n')]),
);

suite('language features and search from the host', () => {
  let relay: TestRelay;
  let root: string;
  let host: TestHost;
  let hostClient: RelayClient;
  let language: LanguageHost;
  let feed: DiagnosticsFeed;
  let api: TandemApi;
  let created: CreatedSession;
  const seenByHost: LanguageRequestOut[] = [];
  /** What the guest's connection received as `language.diagnostics` (for a failure's message). */
  const diagnosticsFrames: string[] = [];
  const uri = (path: string) => vscode.Uri.from({ scheme: 'tandem', authority: created.session_id, path: `/${path}` });
  const hostUri = (path: string) => vscode.Uri.joinPath(vscode.Uri.file(root), ...path.split('/'));
  const guest = () => {
    assert.ok(api.language.guest, 'the guest’s language providers are up');
    return api.language.guest;
  };

  suiteSetup(async function () {
    // The TypeScript server starts on the first question: a busy machine takes a while.
    this.timeout(120_000);
    relay = await startTestRelay();
    root = makeTree({
      'tsconfig.json': JSON.stringify({ compilerOptions: { strict: true, target: 'es2020', module: 'commonjs' } }),
      'src/util.ts': UTIL,
      'src/main.ts': MAIN,
      'vendor/lib.ts': 'export function helper(): number {\n  return 1;\n}\n',
      '.env': 'SECRET=1\n',
      '.gitignore': 'dist/\n',
      'dist/out.js': 'built',
      ...LOGS,
    });
    created = await createSession(relay);
    hostClient = await connectClient(relay.url, created.host.token);
    hostClient.on('language.request', (request) => seenByHost.push(request));
    host = new TestHost(root, hostClient, { globs: [...DEFAULT_EXCLUDE, 'vendor'], respectGitignore: true, readOnly: DEFAULT_READ_ONLY });
    language = new LanguageHost(host.folder, hostClient, { timeoutMs: 30_000 });
    feed = new DiagnosticsFeed(
      (target) => language.sharedPathOf(target),
      (payload) => void hostClient.send('language.diagnostics', payload),
      () => 60_000,
    );
    // The host has its files open (TypeScript reports problems for open files), and its language service is up.
    await vscode.workspace.openTextDocument(hostUri('src/main.ts'));
    await vscode.workspace.openTextDocument(hostUri('src/util.ts'));
    await eventually(
      async () =>
        (
          (await vscode.commands.executeCommand<vscode.Hover[]>(
            'vscode.executeHoverProvider',
            hostUri('src/main.ts'),
            new vscode.Position(3, 32),
          )) ?? []
        ).length > 0,
      () => 'the host’s TypeScript hover',
      90_000,
      250,
    );
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
    await eventually(
      () => api.session.state === 'live',
      () => `the session to go live (${api.session.state})`,
    );
    api.session.client?.on('language.diagnostics', (payload) => diagnosticsFrames.push(JSON.stringify(payload)));
    // The guest's copies, loaded once (through the shared folder) before the questions about them.
    await vscode.workspace.openTextDocument(uri('src/main.ts'));
    await vscode.workspace.openTextDocument(uri('src/util.ts'));
  });

  suiteTeardown(async () => {
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    feed?.dispose();
    language?.dispose();
    host?.dispose();
    await relay?.stop();
    removeTreeOnExit(root);
  });

  test('a hover on a shared TypeScript file comes from the host’s TypeScript', async function () {
    this.timeout(90_000);
    let text = '';
    await eventually(
      async () => {
        const hovers =
          (await vscode.commands.executeCommand<vscode.Hover[]>(
            'vscode.executeHoverProvider',
            uri('src/main.ts'),
            new vscode.Position(3, 32),
          )) ?? [];
        text = hovers.flatMap((hover) => hover.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
        return /greet\(name: string\): string/.test(text);
      },
      () => `the host’s hover (last: ${JSON.stringify(text)})`,
      80_000,
      500,
    );
  });

  test('go to definition lands in the tandem: file at the definition', async function () {
    this.timeout(60_000);
    // The host's answer (the function in util.ts); this window's own TypeScript may add the import in
    // main.ts. Asked again while the host's TypeScript still loads the project (it answers nothing then).
    type Target = { uri: vscode.Uri; range: vscode.Range };
    let targets: Target[] = [];
    await eventually(
      async () => {
        const found = await vscode.commands.executeCommand<Array<vscode.Location | vscode.LocationLink>>(
          'vscode.executeDefinitionProvider',
          uri('src/main.ts'),
          new vscode.Position(3, 32),
        );
        targets = found.map((f) => ('targetUri' in f ? { uri: f.targetUri, range: f.targetSelectionRange ?? f.targetRange } : f));
        return targets.some((t) => t.uri.toString() === uri('src/util.ts').toString());
      },
      () => `a definition in util.ts (last: ${JSON.stringify(targets)})`,
      50_000,
      500,
    );
    assert.ok(
      targets.every((t) => t.uri.scheme === 'tandem' && t.uri.authority === created.session_id),
      JSON.stringify(targets),
    );
    const inUtil = targets.find((t) => t.uri.toString() === uri('src/util.ts').toString())!;
    assert.deepEqual([inUtil.range.start.line, inUtil.range.start.character], [0, 16]);
  });

  test('a definition in an excluded folder is dropped and counted as not shared, never named', async () => {
    // The host's TypeScript answers with the function in vendor/lib.ts, which is excluded: dropped, counted.
    const answer = await guest().requests.result(
      { op: 'definition', path: 'src/main.ts', position: { line: 4, character: 22 } },
      'locations',
    );
    assert.deepEqual(answer, { kind: 'locations', locations: [], not_shared: 1, incomplete: false });
    // What VS Code shows: nothing of the host's folder outside what it shares (this window's own
    // TypeScript may add the import in its copy of main.ts).
    const found = await vscode.commands.executeCommand<vscode.LocationLink[]>(
      'vscode.executeDefinitionProvider',
      uri('src/main.ts'),
      new vscode.Position(4, 22),
    );
    assert.ok(
      found.every((f) => f.targetUri.toString() === uri('src/main.ts').toString()),
      JSON.stringify(found),
    );
    // Asking about the excluded file itself is refused by the host.
    const refused = await guest().requests.ask({ op: 'hover', path: 'vendor/lib.ts', position: { line: 0, character: 17 } });
    assert.deepEqual(refused, { code: 'NotShared', message: 'vendor/lib.ts: not shared' });
  });

  test('completion, signature help and document symbols come from the host', async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      'vscode.executeCompletionItemProvider',
      uri('src/main.ts'),
      new vscode.Position(5, 27),
    );
    const labels = list.items.map((item) => (typeof item.label === 'string' ? item.label : item.label.label));
    assert.ok(labels.includes('toUpperCase'), labels.slice(0, 20).join(', '));
    assert.ok(list.items.length <= 200);

    const help = await vscode.commands.executeCommand<vscode.SignatureHelp>(
      'vscode.executeSignatureHelpProvider',
      uri('src/main.ts'),
      new vscode.Position(3, 37),
    );
    const signature = help.signatures[help.activeSignature]!;
    assert.match(signature.label, /greet\(name: string\): string/);
    const parameter = signature.parameters[0]!.label;
    assert.equal(typeof parameter === 'string' ? parameter : signature.label.slice(...parameter), 'name: string');

    // The host's outline, as a tree. (This window's own TypeScript adds a syntax-only outline of the
    // guest's copy to what the command returns, so the host's answer is checked on its own too.)
    const outline = await guest().requests.result({ op: 'documentSymbols', path: 'src/util.ts' }, 'symbols');
    assert.deepEqual(
      outline?.symbols.map((s) => [s.name, s.parent]),
      [
        ['greet', undefined],
        ['Greeter', undefined],
        ['greet', 1],
      ],
    );
    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>(
      'vscode.executeDocumentSymbolProvider',
      uri('src/util.ts'),
    );
    assert.ok(
      symbols.some((s) => s.name === 'Greeter' && s.children.map((c) => c.name).join() === 'greet'),
      JSON.stringify(symbols.map((s) => s.name)),
    );
  });

  test('a cancelled question is cancelled on the host too, and answers at once', async () => {
    const source = new vscode.CancellationTokenSource();
    const before = seenByHost.length;
    const asked = guest().requests.ask({ op: 'references', path: 'src/util.ts', position: { line: 0, character: 17 } }, source.token);
    source.cancel();
    assert.deepEqual(await asked, { code: 'Cancelled', message: 'cancelled' });
    await eventually(
      () => seenByHost.slice(before).some((r) => r.op === 'cancel'),
      () => `the host to be told (${JSON.stringify(seenByHost.slice(before))})`,
    );
    const [question, cancel] = seenByHost.slice(before);
    assert.equal(question?.op, 'references');
    assert.equal(cancel?.request_id, question?.request_id);
    // A question after it is answered as usual.
    const references = await guest().requests.result(
      { op: 'references', path: 'src/util.ts', position: { line: 0, character: 17 } },
      'locations',
    );
    assert.deepEqual(references?.locations.map((l) => l.path).sort(), ['src/main.ts', 'src/main.ts', 'src/util.ts', 'src/util.ts']);
  });

  test('Go to Shared File lists the shared files only, and opens the one picked', async () => {
    const picked = vscode.commands.executeCommand<string | undefined>('tandem.goToSharedFile');
    await eventually(
      () => api.search.activePick !== undefined && !api.search.activePick.busy && api.search.activePick.items.length > 0,
      () => 'the list of shared files',
    );
    const pick = api.search.activePick!;
    const paths = pick.items.map((item) => item.path).sort();
    assert.deepEqual(paths, ['.gitignore', ...Object.keys(LOGS), 'src/main.ts', 'src/util.ts', 'tsconfig.json'].sort());
    let hidden = false;
    pick.onDidHide(() => (hidden = true));
    pick.value = 'util';
    await eventually(
      () => pick.activeItems[0]?.path === 'src/util.ts',
      () => `the match to come first (active: ${pick.activeItems.map((i) => i.path).join(', ')}; hidden: ${hidden})`,
    );
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    assert.equal(await picked, 'src/util.ts');
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri('src/util.ts').toString());
  });

  test('Find in Shared Folder: a regex within globs, the matches in the view, one click opens it', async () => {
    const count = await vscode.commands.executeCommand<number | undefined>('tandem.findInSharedFolder', {
      pattern: 'gree\\w+\\(',
      regex: true,
      caseSensitive: true,
      files: 'src/**, !**/util.ts',
    });
    assert.equal(count, 1);
    assert.deepEqual(api.search.results.matches, [
      { path: 'src/main.ts', line: 3, character: 31, length: 6, preview: "export const message: string = greet('ana');" },
    ]);
    const [file] = api.search.results.getChildren();
    const [match] = api.search.results.getChildren(file);
    const command = api.search.results.getTreeItem(match!).command!;
    await vscode.commands.executeCommand(command.command, ...(command.arguments ?? []));
    const editor = vscode.window.activeTextEditor;
    assert.equal(editor?.document.uri.toString(), uri('src/main.ts').toString());
    assert.deepEqual([editor.selection.start.line, editor.selection.start.character, editor.selection.end.character], [3, 31, 37]);
  });

  test('Find in Shared Folder stops at its cap and never searches what is not shared', async () => {
    const count = await vscode.commands.executeCommand<number | undefined>('tandem.findInSharedFolder', { pattern: 'needle' });
    assert.equal(count, 2000);
    assert.ok(api.search.results.matches.every((m) => m.path.startsWith('logs/')));
    const secret = await vscode.commands.executeCommand<number | undefined>('tandem.findInSharedFolder', {
      pattern: 'SECRET|built|return 1',
      regex: true,
    });
    assert.equal(secret, 0, JSON.stringify(api.search.results.matches));
  });

  // Last: the host edits main.ts here.
  test('the host’s problems appear in the guest’s Problems and go when fixed', async function () {
    this.timeout(90_000);
    // The host has the file in an editor, as someone working on it does.
    const hostDocument = await vscode.workspace.openTextDocument(hostUri('src/main.ts'));
    await vscode.window.showTextDocument(hostDocument, { preview: false });
    const broken = new vscode.WorkspaceEdit();
    broken.replace(hostDocument.uri, hostDocument.lineAt(3).range, "export const message: number = greet('ana');");
    assert.ok(await vscode.workspace.applyEdit(broken));
    await eventually(
      () => vscode.languages.getDiagnostics(uri('src/main.ts')).some((d) => d.code === 2322),
      () =>
        `the type error on the guest (host: ${JSON.stringify(vscode.languages.getDiagnostics(hostDocument.uri))}; ` +
        `frames: ${diagnosticsFrames.join(' ')})`,
      80_000,
    );
    const error = vscode.languages.getDiagnostics(uri('src/main.ts')).find((d) => d.code === 2322)!;
    assert.equal(error.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(error.range.start.line, 3);
    assert.equal(error.source, 'ts');
    // A guest that asks again (as after a reconnect) gets the same.
    await guest().refreshDiagnostics();
    assert.ok(vscode.languages.getDiagnostics(uri('src/main.ts')).some((d) => d.code === 2322));

    const fixed = new vscode.WorkspaceEdit();
    fixed.replace(hostDocument.uri, hostDocument.lineAt(3).range, "export const message: string = greet('ana');");
    assert.ok(await vscode.workspace.applyEdit(fixed));
    await eventually(
      () => vscode.languages.getDiagnostics(uri('src/main.ts')).length === 0,
      () => `the problem to go (${JSON.stringify(vscode.languages.getDiagnostics(uri('src/main.ts')))})`,
      80_000,
    );
    assert.deepEqual(
      vscode.languages.getDiagnostics().filter(([u]) => u.scheme === 'tandem' && u.path.startsWith('/vendor')),
      [],
      'nothing about the excluded folder',
    );
  });
});

/**
 * The host's side as the extension wires it: this window hosts (Start Session, its folder shared)
 * and a guest is a plain RelayClient asking over the wire.
 */
suite('language features: this window as the host', () => {
  const DIR = 'language-host';
  let relay: RelayProcess;
  let api: TandemApi;
  let guest: PlainRelayClient;
  let folder: string;
  const frames: ServerFrame[] = [];
  let counter = 0;

  /** One question, and the host's answer to it. */
  async function ask(question: LanguageQuestion) {
    const request_id = `q-${++counter}`;
    guest.send('language.request', { ...question, request_id } as LanguageRequestIn);
    await eventually(
      () => frames.some((f) => f.event_type === 'language.response' && f.payload.request_id === request_id),
      () => `the host's answer to ${JSON.stringify(question)}`,
    );
    const frame = frames.find((f) => f.event_type === 'language.response' && f.payload.request_id === request_id);
    assert.ok(frame?.event_type === 'language.response');
    return frame.payload;
  }

  suiteSetup(async () => {
    folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    mkdirSync(join(folder, DIR), { recursive: true });
    writeFileSync(join(folder, DIR, 'notes.md'), '# Plan\n\n## Steps\n\nfirst\n');
    writeFileSync(join(folder, DIR, '.env'), 'SECRET=1\n');
    ({ relay, api } = await hostLiveSession());
    const token = mintToken(relay.secret, { user: 'bob', sessions: [api.session.info!.sessionId], role: 'viewer', ttl: '1h' });
    guest = new PlainRelayClient({ url: relay.url, token, transport: createNodeWsTransport(WebSocket) });
    guest.onFrame((frame) => frames.push(frame));
    guest.connect();
    await eventually(
      () => guest.state === 'open',
      () => `the guest to connect (${guest.state})`,
    );
  });

  suiteTeardown(async () => {
    guest?.dispose();
    await endHostedSession(api, relay);
    if (folder) rmSync(join(folder, DIR), { recursive: true, force: true });
  });

  test('answers a viewer’s outline question with its own language support, and refuses an excluded file', async function () {
    this.timeout(60_000);
    let last: unknown;
    await eventually(
      async () => {
        const answer = await ask({ op: 'documentSymbols', path: `${DIR}/notes.md` });
        last = answer;
        return answer.ok && answer.result.kind === 'symbols' && answer.result.symbols.some((s) => s.name.includes('Steps'));
      },
      () => `the outline of notes.md (last: ${JSON.stringify(last)})`,
      50_000,
      500,
    );
    const refused = await ask({ op: 'hover', path: `${DIR}/.env`, position: { line: 0, character: 1 } });
    assert.deepEqual(refused.ok ? refused.result : refused.error.code, 'NotShared');
    const all = await ask({ op: 'diagnostics' });
    assert.ok(all.ok && all.result.kind === 'diagnostics');
    assert.ok(all.result.files.every((file) => !file.path.endsWith('.env')));
  });
});
