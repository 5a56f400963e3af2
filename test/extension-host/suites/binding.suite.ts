/**
 * `DocumentBinding` in a real VS Code against a real relay (in the extension host): editor
 * documents (CRLF and LF temp files) bound to one shared document, next to a raw OT client
 * (`OtPeer`) typing as a remote user. Each test ends with every participant idle on one text,
 * each editor showing it in its own line ending.
 */
import assert from 'node:assert/strict';
import { setup, suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';
import * as vscode from 'vscode';
import { textType } from '../../../protocol';
import { mintToken } from '../../../relay/auth/tokens';
import { OtPeer, prng } from '../../support/ot-peer';
import type { TestRelay } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import {
  converged,
  editorOf,
  EditorPeer,
  type EditorPeerOptions,
  eventually,
  localEdit,
  relayRepairs,
  startCollabRelay,
  TempFiles,
} from '../support/collab-peers';

const { Position, Range, Selection } = vscode;

suite('document binding', () => {
  let relay: TestRelay;
  let files: TempFiles;
  const peers: Array<EditorPeer | OtPeer> = [];
  let count = 0;

  suiteSetup(async () => {
    relay = await startCollabRelay();
  });
  setup(() => {
    files = new TempFiles();
  });
  suiteTeardown(async () => {
    // Every binding checked itself against the relay at its quiet moments: none may have differed.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const found = relay ? await relayRepairs(relay) : 0;
    await relay?.stop();
    assert.equal(found, 0, 'the relay found no diverged copy in the whole suite');
  });
  teardown(async () => {
    for (const peer of peers.splice(0)) peer.dispose();
    await files?.dispose();
  });

  /** A fresh shared document id and options for a participant in it. */
  function room(name: string) {
    const documentId = `${name}-${++count}.txt`;
    const options = (user: string, extra: Partial<EditorPeerOptions> = {}): EditorPeerOptions => ({
      relay,
      user,
      clientId: `${user}-${count}`,
      documentId,
      ...extra,
    });
    return { documentId, options };
  }

  async function host(text: string, options: EditorPeerOptions): Promise<EditorPeer> {
    const peer = await EditorPeer.host(await files.open(text), options);
    peers.push(peer);
    return peer;
  }

  /** A guest whose editor document is an LF file (the host's may be CRLF). */
  async function guest(options: EditorPeerOptions): Promise<EditorPeer> {
    const peer = await EditorPeer.guest((text) => files.open(text), options);
    peers.push(peer);
    return peer;
  }

  async function remote(options: EditorPeerOptions): Promise<OtPeer> {
    const peer = new OtPeer(relay.url, relay.token({ user: options.user }), options.clientId, options.documentId);
    peers.push(peer);
    await peer.start();
    return peer;
  }

  /** The raw peer inserts `text` at `at` (a wire offset; default: the end). */
  function remoteInsert(peer: OtPeer, text: string, at = peer.text.length): void {
    peer.edit(textType.fromChange(at, '', text));
  }

  test('a CRLF host and an LF guest converge, editing both ways; each keeps its line ending', async () => {
    const { options } = room('eol');
    const a = await host('alpha\r\nbeta\r\ngamma\r\n', options('hana'));
    const b = await guest(options('gus'));
    assert.equal(a.text, 'alpha\nbeta\ngamma\n', 'the wire form has LF');
    assert.equal(b.document.getText(), 'alpha\nbeta\ngamma\n');
    assert.equal(a.document.eol, vscode.EndOfLine.CRLF);
    assert.equal(b.document.eol, vscode.EndOfLine.LF);

    await editorOf(a.document, vscode.ViewColumn.One);
    await editorOf(b.document, vscode.ViewColumn.Two);
    await localEdit(a.document, (e) => e.insert(new Position(1, 0), 'one\ntwo '));
    await localEdit(b.document, (e, d) => e.insert(d.lineAt(d.lineCount - 2).range.end, '\r\nlast'));
    await localEdit(a.document, (e) => e.delete(new Range(0, 5, 1, 0))); // joins two lines: deletes a CRLF
    const text = await converged([a, b]);
    assert.equal(text, 'alphaone\ntwo beta\ngamma\nlast\n');
    assert.equal(a.document.getText(), 'alphaone\r\ntwo beta\r\ngamma\r\nlast\r\n');
  });

  test('a multi-cursor edit (several changes in one event) is one op', async () => {
    const { options } = room('multi');
    const a = await host('alpha\r\nbeta\r\ngamma\r\ndelta\r\n', options('hana'));
    const b = await guest(options('gus'));
    const before = a.bound.stats.localOps;
    await localEdit(a.document, (e) => {
      e.replace(new Range(0, 0, 0, 5), 'ALPHA');
      e.insert(new Position(1, 4), '!');
      e.delete(new Range(2, 5, 3, 0));
      e.insert(new Position(3, 5), '\nepsilon');
    });
    assert.equal(a.bound.stats.localOps, before + 1, 'one event, one op');
    assert.equal(await converged([a, b]), 'ALPHA\nbeta!\ngammadelta\nepsilon\n');

    // Typing with three cursors, as a user does it.
    const editor = await vscode.window.showTextDocument(a.document, vscode.ViewColumn.One);
    editor.selections = [new Selection(0, 0, 0, 0), new Selection(1, 0, 1, 0), new Selection(3, 7, 3, 7)];
    await vscode.commands.executeCommand('type', { text: '> ' });
    assert.equal(await converged([a, b]), '> ALPHA\n> beta!\ngammadelta\nepsilon> \n');
  });

  test('surrogate pairs: emoji inserted and deleted locally and remotely', async () => {
    const { options } = room('emoji');
    const a = await host('smile: \n', options('hana'));
    const r = await remote(options('rita'));
    await localEdit(a.document, (e) => e.insert(new Position(0, 7), '😀👋🏽'));
    await converged([a], [r]);
    remoteInsert(r, '🎉', 0);
    r.edit(textType.fromChange(r.text.indexOf('😀'), '😀', ''));
    await converged([a], [r]);
    assert.equal(a.text, '🎉smile: 👋🏽\n');
    // 👋🏽 is two code points, four code units.
    await localEdit(a.document, (e) => e.delete(new Range(0, 9, 0, 13)));
    const editor = await vscode.window.showTextDocument(a.document, vscode.ViewColumn.One);
    editor.selection = new Selection(0, 2, 0, 2);
    await vscode.commands.executeCommand('deleteLeft');
    remoteInsert(r, ' 🚀');
    assert.equal(await converged([a], [r]), 'smile: \n 🚀');
  });

  test('typing that races remote edits is transformed, never lost', async function () {
    this.timeout(90_000);
    const { options } = room('race');
    const a = await host('first line\r\nsecond line\r\n', options('hana'));
    const b = await guest(options('gus'));
    const r = await remote(options('rita'));
    await editorOf(b.document, vscode.ViewColumn.Two);
    const editor = await vscode.window.showTextDocument(a.document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    editor.selection = new Selection(1, 0, 1, 0);
    const random = prng(20240611);
    const typed = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2);
    const greek = 'αβγδεζηθικλμνξοπρστυφχψω';
    let remoteCount = 0;
    let guestTyped = '';
    for (let i = 0; i < typed.length; i++) {
      // A burst of remote inserts, then a keystroke while they are on their way to the editors.
      for (let k = 0; k < 3; k++, remoteCount++) remoteInsert(r, String(remoteCount % 10), Math.floor(random() * (r.text.length + 1)));
      const keystroke = vscode.commands.executeCommand('type', { text: typed[i] });
      if (i % 2 === 0) {
        const ch = greek[(i / 2) % greek.length]!;
        guestTyped += ch;
        const at = Math.floor(random() * (b.text.length + 1));
        await localEdit(b.document, (e, d) => e.insert(d.positionAt(Math.min(at, d.getText().length)), ch));
      }
      await keystroke;
    }
    const text = await converged([a, b], [r], 60_000);
    assert.equal(text.replace(/[^A-Z]/g, ''), typed, 'every keystroke, in order');
    assert.equal([...text.replace(/[^α-ω]/g, '')].sort().join(''), [...guestTyped].sort().join(''), "every one of the guest's inserts");
    assert.equal(text.replace(/[^0-9]/g, '').length, remoteCount, 'every remote insert');
    const retries = a.bound.stats.retries + b.bound.stats.retries;
    this.test!.title += ` (${retries} remote edits re-sent after losing a race)`;
    assert.equal(a.bound.stats.recoveries + b.bound.stats.recoveries, 0, `no recovery needed:\n${[...a.logged, ...b.logged].join('\n')}`);
  });

  /**
   * A user presses a key at the caret at the moment a remote edit lands there: the key is sent to
   * the editor just before the binding's `applyEdit` (the renderer applies it first and refuses the
   * remote edit), just after it, or a few milliseconds later. Every keystroke must be in the text
   * exactly once, whatever it types: the same text as the remote edit or another.
   */
  async function collide(eol: '\n' | '\r\n', rounds: number, seed: number, remoteKey: (key: string) => string) {
    const { options } = room(eol === '\n' ? 'collide-lf' : 'collide-crlf');
    let press: (() => void) | undefined;
    const a = await host(`start${eol}`, options('hana', { beforeRemoteEdit: () => press?.() }));
    const r = await remote(options('rita'));
    const editor = await vscode.window.showTextDocument(a.document, {
      viewColumn: vscode.ViewColumn.One,
      preserveFocus: false,
      preview: false,
    });
    await vscode.commands.executeCommand('cursorBottom');
    const random = prng(seed);
    const keys = ['x', '\n', 'é', '😀', 'x', 'x'];
    const moments = { before: 0, after: 0, later: 0 };
    let typed = '';
    let remoteTyped = '';
    for (let i = 0; i < rounds; i++) {
      await eventually(
        () => a.bound.idle && r.settled && a.text === r.text,
        () => `round ${i}: both idle on one text\n${a.logged.join('\n')}`,
      );
      const key = keys[Math.floor(random() * keys.length)]!;
      const other = remoteKey(key);
      const moment = (['before', 'after', 'later'] as const)[Math.floor(random() * 3)]!;
      moments[moment]++;
      let keystroke: Thenable<unknown> | undefined;
      const type = () => (keystroke = vscode.commands.executeCommand('type', { text: key }));
      press = () => {
        press = undefined;
        if (moment === 'before') type();
        else if (moment === 'after')
          queueMicrotask(type); // after the binding's applyEdit went out
        else setTimeout(type, Math.floor(random() * 4));
      };
      const caret = editor.selection.active;
      const at = a.document.offsetAt(caret) - (a.document.eol === vscode.EndOfLine.CRLF ? caret.line : 0);
      r.edit(textType.fromChange(at, '', other));
      typed += key;
      remoteTyped += other;
      await eventually(
        () => keystroke !== undefined,
        () => `round ${i}: the keystroke`,
      );
      await keystroke;
    }
    const text = await converged([a], [r], 60_000);
    const count = (s: string, ch: string) => s.split(ch).length - 1;
    for (const ch of new Set([...keys, ...remoteTyped])) {
      const expected = count('start\n', ch) + count(typed, ch) + count(remoteTyped, ch);
      assert.equal(
        count(text, ch),
        expected,
        `${JSON.stringify(ch)}: every keystroke once (${JSON.stringify(moments)})\n${a.logged.join('\n')}`,
      );
    }
    assert.equal(text.length, 'start\n'.length + typed.length + remoteTyped.length, 'nothing else');
    return { a, moments };
  }

  test('the same key at the same place at the same moment, 120 times (LF): both keystrokes are kept', async function () {
    this.timeout(120_000);
    const { moments } = await collide('\n', 120, 1, (key) => key);
    this.test!.title += ` (${JSON.stringify(moments)})`;
  });

  test('the same key at the same place at the same moment, 120 times (CRLF, Enter included): both keystrokes are kept', async function () {
    this.timeout(120_000);
    const { moments } = await collide('\r\n', 120, 2, (key) => key);
    this.test!.title += ` (${JSON.stringify(moments)})`;
  });

  /**
   * A relay with the default frame and buffer limits (the suite's relay allows 16 MiB frames) and
   * `settings`, for the test that calls it; stopped, after checking it found no diverged copy, when
   * the test ends.
   */
  async function relayAsDeployed(settings: Record<string, string> = {}): Promise<TestRelay> {
    const limited = await startCollabRelay({ WS_MAX_FRAME_BYTES: '65536', WS_MAX_BUFFERED_BYTES: '1048576', ...settings });
    stopAfter.push(limited);
    return limited;
  }
  const stopAfter: TestRelay[] = [];
  teardown(async () => {
    for (const limited of stopAfter.splice(0)) {
      const found = await relayRepairs(limited);
      await limited.stop();
      assert.equal(found, 0, 'that relay found no diverged copy');
    }
  });

  test('a paste larger than a frame while someone types at the same place: every character of both, once', async function () {
    this.timeout(120_000);
    const { documentId, options } = room('paste');
    const limited = await relayAsDeployed();
    const a = await host('start\nend\n', options('alice', { relay: limited }));
    const r = new OtPeer(limited.url, limited.token({ user: 'rob' }), `rob-${count}`, documentId);
    peers.push(r);
    await r.start();
    // 200 KB: more than three times the relay's frame limit (64 KiB), one change in the editor.
    const pasted = `${'P'.repeat(99)}\n`.repeat(2000);
    const at = 'start\n'.length;
    const pasting = localEdit(a.document, (e) => e.insert(new Position(1, 0), pasted));
    let typed = 0;
    await eventually(
      () => {
        if (typed < 30) {
          remoteInsert(r, 'r', Math.min(at, r.text.length));
          typed++;
        }
        return typed === 30;
      },
      () => 'rob typing',
    );
    await pasting;
    const text = await converged([a], [r], 60_000);
    const chars = (s: string, ch: string) => s.split(ch).length - 1;
    assert.equal(chars(text, 'P'), chars(pasted, 'P'), `every pasted character once\n${a.logged.join('\n')}`);
    assert.equal(chars(text, 'r'), 30 + 1, 'every typed character once (and the r of start)');
    assert.equal(text.length, 'start\nend\n'.length + pasted.length + 30);
    assert.ok(a.bound.stats.localOps >= 1);
  });

  test('a paste past DOCUMENT_MAX_LENGTH is taken out of the editor with a reason; typing after it reaches the others', async function () {
    this.timeout(60_000);
    const { documentId, options } = room('too-large');
    const limited = await relayAsDeployed({ DOCUMENT_MAX_LENGTH: '1000' });
    const a = await host('start\nend\n', options('alice', { relay: limited }));
    const r = new OtPeer(limited.url, limited.token({ user: 'rob' }), `rob-${count}`, documentId);
    peers.push(r);
    await r.start();
    const refusals: string[] = [];
    const listening = a.bound.onDidRefuse(({ code }) => refusals.push(code));
    try {
      await localEdit(a.document, (e) => e.insert(new Position(1, 0), 'P'.repeat(2000)));
      await localEdit(a.document, (e) => e.insert(new Position(0, 0), 'z'));
      await eventually(
        () => refusals.length === 1,
        () => `the refusal (${a.logged.join('\n')})`,
      );
      const text = await converged([a], [r]);
      assert.deepEqual(refusals, ['DOCUMENT_TOO_LARGE']);
      assert.equal(text, 'zstart\nend\n', 'the paste is out of the editor, the z typed after it is shared');
      assert.equal(a.document.getText().replace(/\r\n/g, '\n'), 'zstart\nend\n');
    } finally {
      listening.dispose();
    }
  });

  test('different keys at the same place at the same moment, 60 times: both keystrokes are kept', async function () {
    this.timeout(120_000);
    await collide('\r\n', 60, 3, (key) => (key === 'x' ? 'R' : 'x'));
  });

  test('typing with two carets at the moment a remote edit inserts the same at both: all four count', async () => {
    const { options } = room('multi-collide');
    let press: (() => void) | undefined;
    const a = await host('ab\ncd\n', options('hana', { beforeRemoteEdit: () => press?.() }));
    const r = await remote(options('rita'));
    for (let round = 0; round < 20; round++) {
      await eventually(
        () => a.bound.idle && r.settled && a.text === r.text,
        () => `round ${round}: both idle on one text`,
      );
      const editor = await vscode.window.showTextDocument(a.document, {
        viewColumn: vscode.ViewColumn.One,
        preserveFocus: false,
        preview: false,
      });
      const second = a.document.lineCount - 2;
      editor.selections = [new Selection(0, 1, 0, 1), new Selection(second, 1, second, 1)];
      const at = [a.document.offsetAt(new Position(0, 1)), a.document.offsetAt(new Position(second, 1))];
      let keystroke: Thenable<unknown> | undefined;
      press = () => {
        press = undefined;
        keystroke = vscode.commands.executeCommand('type', { text: 'x' });
      };
      // One remote op with the same effect as the two-caret keystroke.
      r.edit([at[0]!, 'x', at[1]! - at[0]!, 'x']);
      await eventually(
        () => keystroke !== undefined,
        () => 'the keystroke',
      );
      await keystroke;
    }
    const text = await converged([a], [r], 60_000);
    assert.equal(text.split('x').length - 1, 80, `every x of both, on both lines: ${JSON.stringify(text)}`);
  });

  test('a remote insert at the caret goes after it: the caret stays (and so does a second caret elsewhere)', async () => {
    const { options } = room('caret-stays');
    const a = await host('one\ntwo\n', options('hana'));
    const r = await remote(options('rita'));
    await eventually(
      () => a.bound.idle && r.settled && a.text === r.text,
      () => 'both idle on one text',
    );
    const editor = await vscode.window.showTextDocument(a.document, { viewColumn: vscode.ViewColumn.One, preview: false });
    editor.selections = [new Selection(0, 3, 0, 3), new Selection(1, 1, 1, 1)];
    // At the first caret (wire 3), and before the second (wire 4, which then moves with the text).
    r.edit([3, 'XY', 1, '!', 4]);
    await eventually(
      () => a.text === 'oneXY\n!two\n',
      () => `the remote edit applied: ${JSON.stringify(a.text)}`,
    );
    await eventually(
      () => editor.selections.map((s) => `${s.active.line}:${s.active.character}`).join(' ') === '0:3 1:2',
      () => `carets ${editor.selections.map((s) => `${s.active.line}:${s.active.character}`).join(' ')}`,
    );
    await vscode.commands.executeCommand('type', { text: 'a' });
    assert.equal(await converged([a], [r]), 'oneaXY\n!tawo\n', 'typed before the remote insert, and after the second caret');
  });

  test('a redo and the same keystroke at the same moment: both count', async () => {
    const { options } = room('redo-collide');
    const a = await host('ab\n', options('hana', { binding: { undo: { groupMs: 0 } } }));
    const r = await remote(options('rita'));
    await vscode.window.showTextDocument(a.document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false, preview: false });
    await vscode.commands.executeCommand('cursorTop');
    await vscode.commands.executeCommand('cursorRight');
    await vscode.commands.executeCommand('type', { text: 'x' });
    await converged([a], [r]);
    assert.equal(await a.bound.undo(), true);
    assert.equal(await converged([a], [r]), 'ab\n');
    // The caret is back between a and b, where the redo puts its x: the user types x there at once.
    const keystroke = vscode.commands.executeCommand('type', { text: 'x' });
    const redone = a.bound.redo();
    await keystroke;
    assert.equal(await redone, true);
    assert.equal(await converged([a], [r]), 'axxb\n');
  });

  test("undo and redo take back this user's own edits, not the remote ones made since", async () => {
    const { options } = room('undo');
    const a = await host('one\ntwo\n', options('hana', { binding: { undo: { groupMs: 0 } } }));
    const r = await remote(options('rita'));
    await localEdit(a.document, (e) => e.insert(new Position(0, 0), 'MINE '));
    await converged([a], [r]);
    remoteInsert(r, 'THEIRS\n');
    remoteInsert(r, '[', 0); // before my text: my undo must still find it
    await converged([a], [r]);
    assert.equal(await a.bound.undo(), true);
    assert.equal(await converged([a], [r]), '[one\ntwo\nTHEIRS\n');
    assert.equal(await a.bound.redo(), true);
    assert.equal(await converged([a], [r]), '[MINE one\ntwo\nTHEIRS\n');
    // A remote edit inside my text: undo takes back what is left of mine.
    r.edit(textType.fromChange(r.text.indexOf('INE'), 'INE', 'ine!'));
    await converged([a], [r]);
    assert.equal(await a.bound.undo(), true);
    assert.equal(await converged([a], [r]), '[ine!one\ntwo\nTHEIRS\n');
    assert.equal(await a.bound.undo(), false, 'nothing more of mine to undo');
  });

  test('typing undoes as one group until the caret moves elsewhere (as VS Code groups it)', async () => {
    const { options } = room('groups');
    const a = await host('hello', options('hana'));
    await vscode.window.showTextDocument(a.document, { preserveFocus: false, preview: false });
    const typeText = async (text: string) => {
      for (const ch of text) await vscode.commands.executeCommand('type', { text: ch });
    };
    await vscode.commands.executeCommand('cursorEnd');
    await typeText('abc');
    await typeText('def');
    await converged([a]);
    assert.equal(await a.bound.undo(), true);
    assert.equal(await converged([a]), 'hello', 'one run of typing is one group');
    await typeText('abc');
    // Away and back to the same place: a new group, as in VS Code.
    await vscode.commands.executeCommand('cursorHome');
    await vscode.commands.executeCommand('cursorEnd');
    await typeText('def');
    await converged([a]);
    assert.equal(await a.bound.undo(), true);
    assert.equal(await converged([a]), 'helloabc', 'the caret move ended the group');
  });

  test("VS Code's own Undo takes back the last edit in the editor, a remote one included (why the binding has its own)", async () => {
    const { options } = room('native-undo');
    const a = await host('one\n', options('hana'));
    const r = await remote(options('rita'));
    await localEdit(a.document, (e) => e.insert(new Position(0, 0), 'MINE '));
    remoteInsert(r, 'THEIRS\n');
    await converged([a], [r]);
    await vscode.window.showTextDocument(a.document, { viewColumn: vscode.ViewColumn.One, preserveFocus: false });
    await vscode.commands.executeCommand('undo');
    // VS Code puts every WorkspaceEdit on the undo stack: its Undo removed the remote edit, and
    // the binding shared that like any other change. The result still converges.
    assert.equal(await converged([a], [r]), 'MINE one\n');
  });

  test('an EOL switch in the editor changes nothing on the wire', async () => {
    const { options } = room('eol-switch');
    const a = await host('a\r\nb\r\n', options('hana'));
    const r = await remote(options('rita'));
    const before = a.bound.stats.localOps;
    await localEdit(a.document, (e) => e.setEndOfLine(vscode.EndOfLine.LF));
    assert.equal(a.document.eol, vscode.EndOfLine.LF);
    assert.equal(a.bound.stats.localOps, before, 'no op');
    await localEdit(a.document, (e) => e.insert(new Position(1, 1), '!'));
    remoteInsert(r, 'c\n');
    assert.equal(await converged([a], [r]), 'a\nb!\nc\n');
  });

  test('a \\r from a client that sends CRLF is shown as a line break and shared as \\n', async () => {
    const { options } = room('cr');
    const a = await host('x\r\n', options('hana'));
    const b = await guest(options('gus'));
    const r = await remote(options('rita'));
    remoteInsert(r, 'one\r\ntwo\r\n');
    assert.equal(await converged([a, b], [r]), 'x\none\ntwo\n');
  });

  test('a lost connection: edits on both sides while away, the relay has dropped that history; rejoining rebases', async () => {
    const short = await startCollabRelay({ DOCUMENT_HISTORY_SIZE: '2' });
    try {
      const documentId = 'rejoin.txt';
      const a = await EditorPeer.host(await files.open('start\r\n'), { relay: short, user: 'hana', clientId: 'hana-rejoin', documentId });
      peers.push(a);
      const r = new OtPeer(short.url, short.token({ user: 'rita' }), 'rita-rejoin', documentId);
      peers.push(r);
      await r.start();
      await converged([a], [r]);
      a.disconnect();
      await localEdit(a.document, (e) => e.insert(new Position(0, 0), 'OFFLINE '));
      await localEdit(a.document, (e) => e.insert(new Position(1, 0), 'tail\n'));
      for (let i = 0; i < 5; i++) {
        remoteInsert(r, `r${i} `, 0);
        await eventually(
          () => r.settled,
          () => 'the remote edit to be committed',
        );
      }
      a.reconnect();
      const text = await converged([a], [r]);
      assert.equal(text, 'r4 r3 r2 r1 r0 OFFLINE start\ntail\n');
      assert.ok(
        a.logged.some((line) => line.includes('rebasing')),
        `rebased: ${a.logged.join('\n')}`,
      );
    } finally {
      for (const peer of peers.splice(0)) peer.dispose();
      await short.stop();
    }
  });

  test('a lost connection with an op in flight: the rejoin takes its commit as the ack, nothing twice', async () => {
    const { options } = room('drop');
    const a = await host('start\n', options('hana'));
    const r = await remote(options('rita'));
    for (let i = 0; i < 10; i++) {
      await localEdit(a.document, (e, d) => e.insert(d.positionAt(d.getText().length), `${i}`));
      if (i % 3 === 0) a.drop();
      remoteInsert(r, 'r', 0);
    }
    const text = await converged([a], [r]);
    assert.equal(text.replace(/[^0-9]/g, ''), '0123456789');
    assert.equal(text.replace(/[^r]/g, '').length, 11); // ten inserts, plus the r of "start"
  });

  test(
    'the relay loses the document (restarted without Redis): the editor rejoins with its copy, nothing typed is lost or ' + 'doubled',
    async function () {
      this.timeout(90_000);
      const relayProcess = await RelayProcess.start({ WS_MAX_MESSAGES_PER_SECOND: '100000' });
      const target = {
        url: relayProcess.url,
        token: (claims: { user: string }) => mintToken(relayProcess.secret, { sessions: ['s1'], role: 'editor', ttl: '5m', ...claims }),
      };
      try {
        const documentId = 'lost.txt';
        const a = await EditorPeer.host(await files.open('start\r\n'), { relay: target, user: 'hana', clientId: 'hana-lost', documentId });
        peers.push(a);
        const r = new OtPeer(target.url, target.token({ user: 'rita' }), 'rita-lost', documentId);
        peers.push(r);
        await r.start();
        await localEdit(a.document, (e) => e.insert(new Position(1, 0), 'confirmed by hana\n'));
        remoteInsert(r, 'confirmed by rita ', 0);
        await converged([a], [r]);
        const epoch = a.bound.epoch;
        assert.ok(epoch, 'the snapshot named the epoch');

        await relayProcess.kill();
        // Typed while the relay is down: pending, to be merged into the rebuilt document.
        await localEdit(a.document, (e, d) => e.insert(d.positionAt(d.getText().length), 'offline hana\n'));
        remoteInsert(r, 'offline rita ', 0);
        await relayProcess.restart();
        const text = await converged([a], [r], 60_000);
        for (const marker of ['confirmed by hana', 'confirmed by rita', 'offline hana', 'offline rita', 'start']) {
          assert.equal(text.split(marker).length - 1, 1, `"${marker}" once in ${JSON.stringify(text)}`);
        }
        assert.notEqual(a.bound.epoch, epoch, 'a new epoch');
        assert.ok(
          a.logged.some((line) => line.includes('rebuilt')),
          `the binding took the rebuilt document: ${a.logged.join('\n')}`,
        );
      } finally {
        for (const peer of peers.splice(0)) peer.dispose();
        await relayProcess.stop();
      }
    },
  );

  test('an edit that skips revisions (publications lost on the way) makes the binding catch up, not stop', async () => {
    const { options } = room('gap');
    const a = await host('one\n', options('hana'));
    const r = await remote(options('rita'));
    remoteInsert(r, 'two\n');
    await converged([a], [r]);
    // As if revisions in between never arrived: an op far past the binding's revision.
    a.bound.onRemoteEdit(['lost '], a.bound.revision + 5, 'nobody', 0);
    await eventually(
      () => a.logged.some((line) => line.startsWith('warn:') && line.includes('catching up')),
      () => a.logged.join('\n'),
    );
    remoteInsert(r, 'three\n');
    await localEdit(a.document, (e, d) => e.insert(d.positionAt(0), '> '));
    const text = await converged([a], [r]);
    assert.equal(text, '> one\ntwo\nthree\n', 'the phantom op was not applied; real ones all were');
    assert.ok(!a.logged.some((line) => line.startsWith('error:')), a.logged.join('\n'));
  });

  test('a change the binding missed is found, and the editor gets the shared text back', async () => {
    const { options } = room('diverge');
    let drop = false;
    const a = await host('shared\n', options('hana', { binding: { listen: false } }));
    const forward = vscode.workspace.onDidChangeTextDocument((e) => {
      if (!drop) a.binding?.onLocalChange(e);
      else if (e.document === a.document) drop = false;
    });
    try {
      const r = await remote(options('rita'));
      await localEdit(a.document, (e) => e.insert(new Position(0, 0), 'seen '));
      await converged([a], [r]);
      drop = true;
      await localEdit(a.document, (e) => e.insert(new Position(1, 0), 'MISSED'));
      const recovered = new Promise<string>((resolve) => a.bound.onDidRecover(resolve));
      assert.equal(a.bound.verify(), false, 'verify finds the difference');
      assert.match(await recovered, /does not show the shared text/);
      remoteInsert(r, 'after\n');
      assert.equal(await converged([a], [r], 30_000, 1), 'seen shared\nafter\n');
      assert.ok(
        a.logged.some((line) => line.startsWith('warn:') && line.includes('replacing')),
        a.logged.join('\n'),
      );
    } finally {
      forward.dispose();
    }
  });

  test('a copy that differs from the relay document is found at the next quiet moment and repaired (the convergence check)', async () => {
    const own = await startCollabRelay();
    try {
      const documentId = 'check.txt';
      const a = await EditorPeer.host(await files.open('one\r\n'), { relay: own, user: 'hana', clientId: 'hana-check', documentId });
      peers.push(a);
      const r = new OtPeer(own.url, own.token({ user: 'rita' }), 'rita-check', documentId);
      peers.push(r);
      await r.start();
      await converged([a], [r]);
      const repaired = new Promise<string>((resolve) => a.bound.onDidRepair(resolve));
      // As if a bug had applied an op the relay never committed, at the next revision...
      a.bound.onRemoteEdit(['phantom '], a.bound.revision + 1, 'nobody', 0);
      await eventually(
        () => a.bound.idle && a.text.startsWith('phantom'),
        () => `the phantom op: ${a.text}`,
      );
      // ...so that the relay's real commit of that revision is taken for one it has already.
      remoteInsert(r, 'two\n');
      assert.match(await repaired, /differed from the relay's document/);
      assert.equal(await converged([a], [r], 30_000, 0, 1), 'one\ntwo\n');
      assert.equal(await relayRepairs(own), 1, 'counted in /ws/stats');
      assert.ok(
        a.logged.some((line) => line.startsWith('warn:') && line.includes('differed')),
        a.logged.join('\n'),
      );
    } finally {
      for (const peer of peers.splice(0)) peer.dispose();
      await own.stop();
    }
  });

  test('a 1 MB CRLF document opens and takes 200 local and 50 remote edits (timing in the title)', async function () {
    this.timeout(150_000);
    const { options } = room('large');
    const line = 'const value = 12345; // a line of sixty characters, more or less';
    const lines = Math.ceil((1024 * 1024) / (line.length + 2));
    const content = Array.from({ length: lines }, (_, i) => `${i} ${line}`).join('\r\n');
    const edit = (i: number, lineNo: number) => (e: vscode.TextEditorEdit, d: vscode.TextDocument) => {
      if (i % 4 === 3) e.delete(new Range(lineNo, 0, lineNo, Math.min(3, d.lineAt(lineNo).text.length)));
      else e.insert(new Position(lineNo, 1), i % 10 === 0 ? '\nx' : 'x');
    };

    // The same edits in an unshared copy first: what VS Code and the editor API cost by themselves.
    const plain = await files.open(content);
    await editorOf(plain, vscode.ViewColumn.Three);
    let random = prng(99);
    let started = Date.now();
    for (let i = 0; i < 200; i++) await localEdit(plain, edit(i, Math.floor(random() * lines)));
    const baselineMs = Date.now() - started;

    started = Date.now();
    const a = await host(content, options('hana'));
    const b = await guest(options('gus'));
    const r = await remote(options('rita'));
    const openMs = Date.now() - started;
    assert.ok(a.document.getText().length >= 1024 * 1024);
    await editorOf(a.document, vscode.ViewColumn.One);
    await editorOf(b.document, vscode.ViewColumn.Two);
    random = prng(99);
    started = Date.now();
    for (let i = 0; i < 200; i++) {
      await localEdit(a.document, edit(i, Math.floor(random() * lines)));
      if (i % 4 === 0) remoteInsert(r, 'R', Math.floor(random() * r.text.length));
    }
    const editedMs = Date.now() - started;
    await converged([a, b], [r], 120_000);
    const totalMs = Date.now() - started;
    const { changeMs, maxChangeMs, changes } = a.bound.stats;
    const timing =
      `open ${openMs} ms; 200 edits ${editedMs} ms (unshared: ${baselineMs} ms), converged after ${totalMs} ms; ` +
      `the binding's own time per change event ${(changeMs / Math.max(1, changes)).toFixed(2)} ms avg, ${maxChangeMs.toFixed(1)} ms max`;
    console.log(`1 MB document: ${timing}`);
    this.test!.title += ` (${timing})`;
  });
});
