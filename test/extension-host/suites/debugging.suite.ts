/**
 * Debugging together in a real VS Code, against a real relay: this window as the host (sharing
 * its folder; a typed client as an editor guest), then as a guest (a typed client as the host).
 * Breakpoints both ways without echo, a late joiner's state, a Node program run under VS Code's
 * own JavaScript debugger stopping at a shared breakpoint, a guest stepping it, and the guest's
 * view of where the host is stopped.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { type Breakpoint, createNodeWsTransport, RelayClient, type ServerFrame } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import type { ControlOutcome } from '../../../extension/debugging/guest-control';
import { mintPersonalToken, mintToken } from '../../../relay/auth/tokens';
import { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';
import { endHostedSession, hostLiveSession } from '../support/hosted-session';

const transport = createNodeWsTransport(WebSocket);
type Frame<E extends ServerFrame['event_type']> = Extract<ServerFrame, { event_type: E }>;

const DIR = 'debugging';
const APP = `${DIR}/app.js`;
const MOVE = `${DIR}/move.js`;
const PROGRAM = ['let total = 0;', 'for (let i = 0; i < 3; i++) {', '  total += i;', '}', 'console.log(total);', ''].join('\n');

/** A typed client in the session, keeping every frame it gets. */
class Peer {
  readonly frames: ServerFrame[] = [];
  readonly client: RelayClient;
  constructor(url: string, token: string) {
    this.client = new RelayClient({ url, token, transport });
    this.client.onFrame((frame) => this.frames.push(frame));
    this.client.connect();
  }
  async open(): Promise<void> {
    await eventually(
      () => this.client.state === 'open',
      () => `a peer to connect (${this.client.state})`,
    );
  }
  of<E extends ServerFrame['event_type']>(type: E): Array<Frame<E>> {
    return this.frames.filter((f): f is Frame<E> => f.event_type === type);
  }
  breakpointFrames(id: string): Array<Frame<'debugging.breakpoint'>> {
    return this.of('debugging.breakpoint').filter((f) => f.payload.breakpoint.id === id);
  }
  async next<E extends ServerFrame['event_type']>(type: E, where: (f: Frame<E>) => boolean, what: string): Promise<Frame<E>> {
    await eventually(
      () => this.of(type).some(where),
      () => `${what} (got ${JSON.stringify(this.frames.filter((f) => f.event_type.startsWith('debugging.') || f.event_type === 'error'))})`,
    );
    return this.of(type).find(where)!;
  }
  dispose(): void {
    this.client.dispose();
  }
}

const sourceBreakpoints = () => vscode.debug.breakpoints.filter((b): b is vscode.SourceBreakpoint => b instanceof vscode.SourceBreakpoint);
const at = (uri: vscode.Uri, line: number) =>
  sourceBreakpoints().filter((b) => b.location.uri.toString() === uri.toString() && b.location.range.start.line === line);
const wire = (id: string, extra: Partial<Breakpoint>): Breakpoint => ({ id, document: APP, line: 0, enabled: true, ...extra });

suite('debugging: this window hosts', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let guest: Peer;
  let folder: string;
  const uri = (path: string) => vscode.Uri.file(join(folder, ...path.split('/')));
  const hostFrames = (id: string) => guest.breakpointFrames(id).filter((f) => f.user_id === 'hana');

  suiteSetup(async () => {
    folder = vscode.workspace.workspaceFolders![0]!.uri.fsPath;
    mkdirSync(join(folder, DIR), { recursive: true });
    writeFileSync(join(folder, ...APP.split('/')), PROGRAM);
    writeFileSync(join(folder, ...MOVE.split('/')), 'a\nb\nc\nd\n');
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    ({ relay, api } = await hostLiveSession());
    guest = new Peer(
      relay.url,
      mintToken(relay.secret, { user: 'gus', sessions: [api.session.info!.sessionId], role: 'editor', ttl: '1h' }),
    );
    await guest.open();
  });

  suiteTeardown(async () => {
    guest?.dispose();
    await vscode.debug.stopDebugging();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await vscode.workspace.getConfiguration('tandem').update('allowGuestDebugControl', undefined, vscode.ConfigurationTarget.Global);
    await endHostedSession(api, relay);
    if (folder) rmSync(join(folder, DIR), { recursive: true, force: true });
  });

  test('a breakpoint set on the host reaches the session with its fields, once; removing it too', async () => {
    const bp = new vscode.SourceBreakpoint(new vscode.Location(uri(APP), new vscode.Position(2, 0)), true, 'i > 0', '2');
    vscode.debug.addBreakpoints([bp]);
    const added = await guest.next(
      'debugging.breakpoint',
      (f) => f.payload.breakpoint.document === APP && f.payload.action === 'add',
      'the add',
    );
    const id = added.payload.breakpoint.id;
    assert.deepEqual(added.payload.breakpoint, { id, document: APP, line: 2, enabled: true, condition: 'i > 0', hit_condition: '2' });
    assert.equal(api.debugging.breakpoints.wireIdOf(bp), id);
    // A later change by the guest, once the host has it, shows the host sent nothing more meanwhile (its echo came back long before).
    guest.client.send('debugging.breakpoint', {
      action: 'add',
      breakpoint: wire('marker-1', { line: 4, log_message: 'total is {total}' }),
    });
    await eventually(
      () => api.debugging.breakpoints.breakpointOf('marker-1') !== undefined,
      () => 'the marker breakpoint on the host',
    );
    assert.equal(hostFrames(id).length, 1, 'one frame for one add: no echo');
    assert.equal(at(uri(APP), 2).length, 1, 'one breakpoint in VS Code');

    vscode.debug.removeBreakpoints([bp]);
    const removed = await guest.next(
      'debugging.breakpoint',
      (f) => f.payload.breakpoint.id === id && f.payload.action === 'remove',
      'the remove',
    );
    assert.equal(removed.payload.breakpoint.line, 2);
  });

  test('a guest’s breakpoints appear in VS Code (condition, hit count, log message), follow its changes, are not sent back', async () => {
    guest.client.send('debugging.breakpoint', {
      action: 'add',
      breakpoint: wire('g-1', { line: 1, condition: 'i === 1', hit_condition: '>1' }),
    });
    await eventually(
      () => at(uri(APP), 1).length === 1,
      () => `the guest's breakpoint in VS Code (${JSON.stringify(sourceBreakpoints().map((b) => b.location))})`,
    );
    const shown = at(uri(APP), 1)[0]!;
    assert.equal(shown.condition, 'i === 1');
    assert.equal(shown.hitCondition, '>1');
    assert.equal(shown.enabled, true);
    const marker = api.debugging.breakpoints.breakpointOf('marker-1')!;
    assert.equal(marker.logMessage, 'total is {total}');

    guest.client.send('debugging.breakpoint', {
      action: 'update',
      breakpoint: wire('g-1', { line: 1, enabled: false, log_message: 'i={i}' }),
    });
    // VS Code has no update: the old breakpoint goes and a new one comes (the renderer may report the old one once more first).
    await eventually(
      () => at(uri(APP), 1).length === 1 && at(uri(APP), 1)[0]!.enabled === false,
      () => `the guest’s update in VS Code (${JSON.stringify(at(uri(APP), 1))})`,
    );
    assert.equal(at(uri(APP), 1)[0]!.logMessage, 'i={i}');
    assert.equal(at(uri(APP), 1)[0]!.condition, undefined);

    guest.client.send('debugging.breakpoint', { action: 'remove', breakpoint: wire('g-1', { line: 1 }) });
    guest.client.send('debugging.breakpoint', { action: 'remove', breakpoint: wire('marker-1', { line: 4 }) });
    await eventually(
      () => at(uri(APP), 1).length === 0 && at(uri(APP), 4).length === 0,
      () => 'the guest’s removals in VS Code',
    );
    // The host's own next change shows it sent nothing for the guest's.
    const bp = new vscode.SourceBreakpoint(new vscode.Location(uri(MOVE), new vscode.Position(3, 0)));
    vscode.debug.addBreakpoints([bp]);
    await guest.next('debugging.breakpoint', (f) => f.payload.breakpoint.document === MOVE, 'the host’s marker');
    assert.deepEqual([...hostFrames('g-1'), ...hostFrames('marker-1')], []);
    vscode.debug.removeBreakpoints([bp]);
    await guest.next('debugging.breakpoint', (f) => f.payload.breakpoint.document === MOVE && f.payload.action === 'remove', 'its removal');
  });

  test('the host reports a breakpoint that moved with the text (update)', async () => {
    const document = await vscode.workspace.openTextDocument(uri(MOVE));
    await vscode.window.showTextDocument(document, { preview: false });
    guest.client.send('debugging.breakpoint', { action: 'add', breakpoint: wire('g-move', { document: MOVE, line: 2 }) });
    await eventually(
      () => at(uri(MOVE), 2).length === 1,
      () => 'the guest’s breakpoint in move.js',
    );
    // Through the main thread and back: VS Code there has the breakpoint (and the editor its decoration) once this returns.
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.window.showTextDocument(document, { preview: false });
    const edit = new vscode.WorkspaceEdit();
    edit.insert(document.uri, new vscode.Position(0, 0), 'new line\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    const moved = await guest.next(
      'debugging.breakpoint',
      (f) => f.payload.breakpoint.id === 'g-move' && f.payload.action === 'update',
      'the host’s update of the moved breakpoint',
    );
    assert.equal(moved.payload.breakpoint.line, 3);
    assert.equal(moved.user_id, 'hana');
    await vscode.commands.executeCommand('workbench.action.files.revert');
  });

  test('a late joiner gets the session’s breakpoints in debugging.state', async () => {
    const late = new Peer(
      relay.url,
      mintToken(relay.secret, { user: 'lea', sessions: [api.session.info!.sessionId], role: 'viewer', ttl: '1h' }),
    );
    try {
      const state = await late.next('debugging.state', () => true, 'the state');
      assert.ok(state.payload.breakpoints.some((b) => b.id === 'g-move'));
    } finally {
      late.dispose();
    }
  });

  test('the host’s debugger stops at a shared breakpoint; a guest steps it, sees where it stopped, and continues it', async function () {
    this.timeout(90_000);
    guest.client.send('debugging.breakpoint', { action: 'remove', breakpoint: wire('g-move', { document: MOVE, line: 3 }) });
    const bp = new vscode.SourceBreakpoint(new vscode.Location(uri(APP), new vscode.Position(2, 0)));
    vscode.debug.addBreakpoints([bp]);
    await eventually(
      () => api.debugging.breakpoints.wireIdOf(bp) !== undefined,
      () => 'the breakpoint to be shared',
    );
    const folderUri = vscode.workspace.workspaceFolders![0]!;
    assert.ok(
      await vscode.debug.startDebugging(folderUri, {
        type: 'node',
        request: 'launch',
        name: 'tandem test',
        program: uri(APP).fsPath,
        console: 'internalConsole',
      }),
      'VS Code’s JavaScript debugger starts',
    );
    const stopped = await guest.next('debugging.stopped', () => true, 'the stop at the breakpoint');
    const trace = (await vscode.debug.activeDebugSession?.customRequest('stackTrace', {
      threadId: stopped.payload.thread_id,
      levels: 1,
    })) as { stackFrames?: Array<{ source?: unknown }> } | undefined;
    assert.ok(
      stopped.payload.location,
      `a location (the adapter's source: ${JSON.stringify(trace?.stackFrames?.[0]?.source)}; folder ${folder})`,
    );
    assert.equal(stopped.payload.reason, 'breakpoint');
    assert.deepEqual(stopped.payload.location, { document: APP, line: 2, column: stopped.payload.location!.column });
    assert.equal(stopped.payload.frames[0]?.document, APP);
    assert.ok(
      stopped.payload.variables.some((v) => v.name === 'i' && v.value === '0'),
      JSON.stringify(stopped.payload.variables),
    );

    guest.client.send('debugging.control', { request_id: 'step-1', action: 'step_over' });
    const result = await guest.next('debugging.control_result', (f) => f.payload.request_id === 'step-1', 'the answer to step over');
    assert.equal(result.payload.ok, true, result.payload.message);
    const stepped = await guest.next('debugging.stopped', (f) => f.payload.reason === 'step', 'the stop after the step');
    assert.equal(stepped.payload.location?.document, APP);
    assert.notEqual(stepped.payload.location?.line, 2);

    vscode.debug.removeBreakpoints([bp]);
    guest.client.send('debugging.control', { request_id: 'go-1', action: 'continue' });
    const go = await guest.next('debugging.control_result', (f) => f.payload.request_id === 'go-1', 'the answer to continue');
    assert.equal(go.payload.ok, true, go.payload.message);
    await guest.next('debugging.continued', () => true, 'the host running again');
  });

  test('a guest’s control is refused when the host turns tandem.allowGuestDebugControl off', async () => {
    await vscode.workspace.getConfiguration('tandem').update('allowGuestDebugControl', false, vscode.ConfigurationTarget.Global);
    guest.client.send('debugging.control', { request_id: 'no-1', action: 'pause' });
    const result = await guest.next('debugging.control_result', (f) => f.payload.request_id === 'no-1', 'the refusal');
    assert.equal(result.payload.ok, false);
    assert.match(result.payload.message ?? '', /allowGuestDebugControl/);
  });
});

interface CreatedSession {
  session_id: string;
  host: { token: string };
  invites: Record<'editor' | 'viewer', { link: string }>;
}

suite('debugging: this window is a guest', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  let host: Peer;
  let created: CreatedSession;
  const uri = (path: string) => vscode.Uri.from({ scheme: 'tandem', authority: created.session_id, path: `/${path}` });

  suiteSetup(async () => {
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    relay = await RelayProcess.start();
    const response = await fetch(`${relay.httpUrl}/api/sessions`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        Authorization: `Bearer ${mintPersonalToken(relay.secret, { user: 'hugo', name: 'Hugo', ttl: '1h' })}`,
      },
      body: JSON.stringify({ name: 'debugging' }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    created = (await response.json()) as CreatedSession;
    host = new Peer(relay.url, created.host.token);
    await host.open();
    // Before this window joins: it gets them in debugging.state.
    host.client.send('debugging.breakpoint', {
      action: 'add',
      breakpoint: wire('h-1', { line: 2, condition: 'i > 1', log_message: 'i={i}' }),
    });
    await host.next('debugging.breakpoint', (f) => f.payload.breakpoint.id === 'h-1', 'the host’s breakpoint applied');
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
    await eventually(
      () => api.session.state === 'live',
      () => `the guest session to go live (${api.session.state})`,
    );
  });

  suiteTeardown(async () => {
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    host?.dispose();
    vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await relay?.stop();
  });

  test('a late joiner shows the session’s breakpoints at the shared files’ tandem: URIs', async () => {
    await eventually(
      () => at(uri(APP), 2).length === 1,
      () => `the host's breakpoint in VS Code (${JSON.stringify(sourceBreakpoints().map((b) => b.location.uri.toString()))})`,
    );
    const shown = at(uri(APP), 2)[0]!;
    assert.equal(shown.condition, 'i > 1');
    assert.equal(shown.logMessage, 'i={i}');
  });

  test('a breakpoint the guest sets in a shared file reaches the host', async () => {
    vscode.debug.addBreakpoints([
      new vscode.SourceBreakpoint(new vscode.Location(uri(APP), new vscode.Position(4, 0)), true, undefined, '3'),
    ]);
    const added = await host.next('debugging.breakpoint', (f) => f.payload.breakpoint.line === 4, 'the guest’s add');
    assert.equal(added.payload.breakpoint.document, APP);
    assert.equal(added.payload.breakpoint.hit_condition, '3');
    assert.equal(added.user_id, api.session.info!.userId);
  });

  test('shows where the host is stopped (line, call stack, variables) and clears it when the host runs on', async () => {
    host.client.send('debugging.stopped', {
      thread_id: 7,
      reason: 'breakpoint',
      description: 'Paused on breakpoint',
      location: { document: APP, line: 2, column: 2 },
      frames: [
        { name: 'main', document: APP, line: 2, column: 2 },
        { name: 'node:internal/main', line: 10, column: 0 },
      ],
      variables: [{ name: 'total', value: '1', type: 'number' }],
    });
    await eventually(
      () => api.debugging.view.highlighted?.line === 2,
      () => `the stopped line highlighted (${JSON.stringify(api.debugging.view.highlighted)})`,
    );
    assert.equal(api.debugging.view.highlighted!.uri.toString(), uri(APP).toString());
    const [stack, variables] = api.debugging.view.getChildren();
    assert.ok(stack && variables);
    assert.deepEqual(
      api.debugging.view.getChildren(stack).map((n) => api.debugging.view.getTreeItem(n).label),
      ['main', 'node:internal/main'],
    );
    const variable = api.debugging.view.getTreeItem(api.debugging.view.getChildren(variables)[0]!);
    assert.deepEqual([variable.label, variable.description], ['total', '1']);

    host.client.send('debugging.continued', { reason: 'continued', thread_id: 7 });
    await eventually(
      () => api.debugging.view.stopped === null && api.debugging.view.highlighted === undefined,
      () => 'the view cleared',
    );
  });

  test('Step Over asks the host, and the host’s refusal comes back to the guest', async () => {
    const answering = host.client.on('debugging.control', (request) => {
      host.client.send('debugging.control_result', {
        request_id: request.request_id,
        requester: request.requester,
        ok: false,
        message: 'not now',
      });
    });
    try {
      const outcome = await vscode.commands.executeCommand<ControlOutcome>('tandem.debugStepOver');
      assert.deepEqual(outcome, { ok: false, message: 'not now' });
      const asked = host.of('debugging.control');
      assert.equal(asked.at(-1)?.payload.action, 'step_over');
    } finally {
      answering.dispose();
    }
  });
});
