/**
 * The host in charge (issue 17, items 5 and 6), from VS Code, against a real relay, each side in
 * turn: this window hosts with `tandem.requireApproval` (admits one guest from the notification,
 * denies another, removes one, makes an editor a viewer and back, asks everyone to follow) while
 * the suite plays the guests; then this window is the guest (waits to be admitted, is told of a
 * denial, its shared folder turns read-only and writable as the host changes its role, follows the
 * host when asked, and ends with "the host removed you") while the suite plays the host.
 */
import assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { JoinRequestPayload, Participant, RelayClient } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import type { ShownNotification } from '../../../extension/ui/notifier';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { connectClient, eventually, makeTree, removeTreeOnExit, TestHost } from '../support/shared-folder';

interface Created {
  session_id: string;
  host: { user_id: string; token: string };
  invites: Record<'editor' | 'viewer', { token: string; link: string; approval: boolean }>;
}

async function call<T>(
  relay: TestRelay,
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${relay.httpUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as T };
}

/** A guest outside VS Code asking to join through an approval link: its request, to poll. */
async function askToJoin(relay: TestRelay, invite: string, name: string) {
  const asked = await call<{ request_id: string; request_token: string }>(relay, 'POST', '/api/invites/redeem', { invite, name });
  assert.equal(asked.status, 202, JSON.stringify(asked.body));
  return asked.body;
}

const poll = (relay: TestRelay, request: { request_id: string; request_token: string }) =>
  call<{ code?: string; token?: string; ws_url?: string }>(
    relay,
    'GET',
    `/api/join-requests/${request.request_id}`,
    undefined,
    request.request_token,
  );

const inviteOf = (link: string) => new URL(link).searchParams.get('invite')!;

/** The notification shown whose message includes `text`. */
function shownWith(api: TandemApi, text: string): ShownNotification | undefined {
  return api.notifier.shown.find((shown) => shown.message.includes(text));
}

suite('the host in charge', () => {
  let relay: TestRelay;
  let api: TandemApi;
  const clients: RelayClient[] = [];
  const state = () => `state ${api.session.state} (${api.session.endReason ?? '-'}), pending ${api.session.pendingJoin?.request_id ?? '-'}`;
  const config = () => vscode.workspace.getConfiguration('tandem');

  suiteSetup(async () => {
    relay = await startTestRelay();
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    await config().update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
    await config().update('displayName', 'Gus Guest', vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(async () => {
    for (const client of clients.splice(0)) client.dispose();
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    for (const key of ['relayUrl', 'displayName', 'requireApproval', 'acceptFocusRequests'])
      await config().update(key, undefined, vscode.ConfigurationTarget.Global);
    await relay?.stop();
  });

  suite('as the host', () => {
    let guestOf: (name: string) => Participant | undefined;

    suiteSetup(async () => {
      await config().update('requireApproval', true, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand(
        'tandem.setPersonalToken',
        mintPersonalToken(TEST_SECRET, { user: 'hana', name: 'Hana', ttl: '1h' }),
      );
      await vscode.commands.executeCommand('tandem.startSession');
      await eventually(() => api.session.state === 'live', state);
      guestOf = (name) => api.session.participants.find((p) => p.display_name === name);
    });
    suiteTeardown(async () => {
      if (api.session.isActive) await vscode.commands.executeCommand('tandem.endSession');
      api.session.reset();
      await config().update('requireApproval', undefined, vscode.ConfigurationTarget.Global);
    });

    /** A guest the host admits through the notification's Admit: connected as a plain client. */
    async function admitted(name: string, role: 'editor' | 'viewer' = 'editor'): Promise<RelayClient> {
      const request = await askToJoin(relay, inviteOf(api.session.info!.invites![role].link), name);
      await eventually(
        () => shownWith(api, `${name} asks to join`) !== undefined,
        () => `the request of ${name} to be shown`,
      );
      assert.ok(api.notifier.choose(shownWith(api, `${name} asks to join`)!, 'Admit'));
      let answer = await poll(relay, request);
      await eventually(
        async () => (answer = await poll(relay, request)).status === 200,
        () => `${name} to be admitted (${answer.status})`,
      );
      const client = await connectClient(answer.body.ws_url!, answer.body.token!);
      clients.push(client);
      await eventually(
        () => guestOf(name) !== undefined,
        () => `${name} in the participants`,
      );
      return client;
    }

    test('makes invites that need approval; a guest waits in the Participants view until Admit, another is denied', async () => {
      const invites = api.session.info!.invites!;
      assert.equal(new URL(invites.editor.link).searchParams.has('invite'), true);
      const bobRequest = await askToJoin(relay, inviteOf(invites.editor.link), 'Bob');
      await eventually(
        () => api.hostControls.waiting.some((r) => r.display_name === 'Bob'),
        () => 'Bob waiting',
      );
      const entries = api.participants.getChildren();
      const waiting = entries.find((e): e is JoinRequestPayload => 'request_id' in e && e.display_name === 'Bob');
      assert.ok(waiting, 'the view lists Bob');
      const item = api.participants.getTreeItem(waiting);
      assert.equal(item.description, 'waiting · editor');
      assert.equal(item.contextValue, 'tandem.joinRequest');
      const shown = shownWith(api, 'Bob asks to join the session as an editor')!;
      assert.deepEqual(shown.actions, ['Admit', 'Deny']);
      assert.equal((await poll(relay, bobRequest)).status, 202, 'Bob waits');

      assert.ok(api.notifier.choose(shown, 'Admit'));
      await eventually(
        async () => (await poll(relay, bobRequest)).status === 200,
        () => 'Bob admitted',
      );
      assert.ok(!api.hostControls.waiting.some((r) => r.display_name === 'Bob'), 'no longer waiting');

      const eveRequest = await askToJoin(relay, inviteOf(invites.viewer.link), 'Eve');
      await eventually(
        () => shownWith(api, 'Eve asks to join the session as a viewer') !== undefined,
        () => 'Eve’s request shown',
      );
      assert.ok(api.notifier.choose(shownWith(api, 'Eve asks to join')!, 'Deny'));
      await eventually(
        async () => (await poll(relay, eveRequest)).body.code === 'JOIN_DENIED',
        () => 'Eve denied',
      );
      assert.equal(api.hostControls.waiting.length, 0);
    });

    test('removes a guest (Remove Participant): their connection is closed for good', async () => {
      const rita = await admitted('Rita');
      const said: string[] = [];
      rita.onDisconnected((info) => said.push(info.serverDisconnect?.reason ?? info.cause));
      await vscode.commands.executeCommand('tandem.removeParticipant', guestOf('Rita'));
      await eventually(
        () => said.includes('removed') && rita.state === 'closed',
        () => `Rita removed (${said.join(', ')}, ${rita.state})`,
      );
      await eventually(
        () => guestOf('Rita') === undefined,
        () => 'Rita gone from the participants',
      );
      // Her old link would mint a new guest: the notice offers to renew the links, and the old ones stop working.
      const oldLink = api.session.info!.invites!.editor.link;
      const notice = shownWith(api, 'you removed Rita');
      assert.deepEqual(notice?.actions, ['Renew Invite Links']);
      assert.ok(api.notifier.choose(notice!, 'Renew Invite Links'));
      await eventually(
        () => api.session.info!.invites!.editor.link !== oldLink,
        () => 'new invite links',
      );
      const newLink = api.session.info!.invites!.editor.link;
      await eventually(
        async () => (await vscode.env.clipboard.readText()) === newLink,
        () => 'the new editor link on the clipboard',
      );
      const refused = await call<{ code?: string }>(relay, 'POST', '/api/invites/redeem', {
        invite: inviteOf(oldLink),
        name: 'Rita again',
      });
      assert.deepEqual([refused.status, refused.body.code], [410, 'INVITE_REVOKED']);
      // The new links still need the host's approval, as the session's did.
      await askToJoin(relay, inviteOf(newLink), 'Ralph');
      await eventually(
        () => shownWith(api, 'Ralph asks to join') !== undefined,
        () => 'Ralph waiting',
      );
      assert.ok(api.notifier.choose(shownWith(api, 'Ralph asks to join')!, 'Deny'));
    });

    test('makes an editor a viewer and back (Make Viewer, Make Editor); everyone sees the role', async () => {
      const carl = await admitted('Carl');
      const roles: string[] = [];
      carl.on('session.role_changed', (change) => roles.push(change.role));
      await vscode.commands.executeCommand('tandem.makeViewer', guestOf('Carl'));
      await eventually(
        () => roles.includes('viewer') && guestOf('Carl')?.role === 'viewer',
        () => `Carl a viewer (${roles.join(', ')})`,
      );
      const item = api.participants.getTreeItem(guestOf('Carl')!);
      assert.equal(item.contextValue, 'tandem.participant.viewer');
      await vscode.commands.executeCommand('tandem.makeEditor', guestOf('Carl'));
      await eventually(
        () => roles.at(-1) === 'editor' && guestOf('Carl')?.role === 'editor',
        () => `Carl an editor again (${roles.join(', ')})`,
      );
    });

    test('Focus Participants asks every guest to follow the host', async () => {
      const dora = await admitted('Dora', 'viewer');
      const focus: string[] = [];
      dora.on('session.focus', (request) => focus.push(request.user_id));
      await vscode.commands.executeCommand('tandem.focusParticipants');
      await eventually(
        () => focus.includes('hana'),
        () => 'Dora asked to follow Hana',
      );
    });
  });

  suite('as a guest', () => {
    let root: string;
    let created: Created;
    let host: TestHost;
    const requests: JoinRequestPayload[] = [];
    const uri = (path: string) => vscode.Uri.from({ scheme: 'tandem', authority: created.session_id, path: `/${path}` });
    const me = () => api.session.info!.userId;

    suiteSetup(async () => {
      root = makeTree({ 'hello.txt': 'hello from the host\n' });
      const made = await call<Created>(
        relay,
        'POST',
        '/api/sessions',
        { name: 'approval', invites: { approval: true } },
        mintPersonalToken(TEST_SECRET, { user: 'olga', name: 'Olga', ttl: '1h' }),
      );
      assert.equal(made.status, 201);
      created = made.body;
      host = new TestHost(root, await connectClient(relay.url, created.host.token));
      host.client.on('session.join_request', (request) => requests.push(request));
    });
    teardown(() => {
      if (api.session.isActive) api.session.leave();
      api.session.reset();
    });
    suiteTeardown(() => {
      host?.dispose();
      removeTreeOnExit(root);
    });

    /** Join Session with the approval link; resolves when the command has finished. */
    async function joinWhenAsked(answer: boolean): Promise<void> {
      const before = requests.length;
      const joining = vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
      await eventually(
        () => api.session.pendingJoin !== undefined && requests.length > before,
        () => `this window waiting for the host (${state()})`,
      );
      assert.equal(api.session.state, 'idle', 'nothing starts while waiting');
      const request = requests.at(-1)!;
      assert.equal(request.display_name, 'Gus Guest');
      assert.equal(request.role, 'editor');
      const decided = await call(
        relay,
        'POST',
        `/api/sessions/${created.session_id}/join-requests/${request.request_id}`,
        { approve: answer },
        created.host.token,
      );
      assert.equal(decided.status, 200);
      await joining;
    }

    test('waits for the host, is told when denied and starts nothing', async () => {
      await joinWhenAsked(false);
      assert.equal(api.session.pendingJoin, undefined);
      assert.equal(api.session.state, 'idle');
      assert.ok(shownWith(api, 'the host denied your request to join the session'), 'told it was denied');
    });

    test('waits for the host, joins once admitted; the folder turns read-only and back as the host changes the role', async () => {
      await joinWhenAsked(true);
      await eventually(() => api.session.state === 'live', state);
      assert.equal(api.session.info!.role, 'editor');
      assert.equal((await vscode.workspace.fs.stat(uri('hello.txt'))).permissions, undefined);
      // Open before the change: it must turn read-only where it is.
      const editor = await vscode.window.showTextDocument(uri('hello.txt'));

      const patch = (role: string) =>
        call(relay, 'PATCH', `/api/sessions/${created.session_id}/participants/${me()}`, { role }, created.host.token);
      assert.equal((await patch('viewer')).status, 200);
      await eventually(() => api.session.info?.role === 'viewer', state);
      // Registered read-only: VS Code shows the folder and its editors read-only (the workbench tells
      // this extension host of the new registration by a message of its own).
      await eventually(
        () => vscode.workspace.fs.isWritableFileSystem('tandem') === false,
        () => 'the tandem: file system registered read-only',
      );
      assert.equal((await vscode.workspace.fs.stat(uri('hello.txt'))).permissions, vscode.FilePermission.Readonly);
      await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(uri('hello.txt'), new TextEncoder().encode('changed'))));
      assert.ok(shownWith(api, 'the host made you a viewer'));
      // The open editor is read-only now: what the user types there goes nowhere (VS Code's `edit` on
      // a read-only editor changes nothing).
      await editor.edit((change) => change.insert(new vscode.Position(0, 0), 'sneaky '));
      assert.equal(editor.document.getText(), 'hello from the host\n', 'a read-only editor takes no typing');
      assert.equal(editor.document.isDirty, false);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');

      assert.equal((await patch('editor')).status, 200);
      await eventually(() => api.session.info?.role === 'editor', state);
      await eventually(
        () => vscode.workspace.fs.isWritableFileSystem('tandem') === true,
        () => 'the tandem: file system registered writable',
      );
      assert.equal((await vscode.workspace.fs.stat(uri('hello.txt'))).permissions, undefined);
      await vscode.workspace.fs.writeFile(uri('hello.txt'), new TextEncoder().encode('from the guest\n'));
      assert.equal(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri('hello.txt'))), 'from the guest\n');
    });

    test('follows the host on Focus Participants, or only offers to with tandem.acceptFocusRequests off', async () => {
      await joinWhenAsked(true);
      await eventually(() => api.session.state === 'live', state);
      assert.ok(host.client.send('session.focus', {}));
      await eventually(
        () => api.follow.following === 'olga',
        () => `following the host (${api.follow.following ?? 'nobody'})`,
      );
      assert.deepEqual(shownWith(api, 'Olga asked everyone to follow them')?.actions, ['Stop Following']);

      api.follow.stop();
      await config().update('acceptFocusRequests', false, vscode.ConfigurationTarget.Global);
      assert.ok(host.client.send('session.focus', {}));
      await eventually(
        () => shownWith(api, 'Olga asks everyone to follow them') !== undefined,
        () => 'the offer to follow',
      );
      assert.equal(api.follow.following, undefined, 'not following without being asked');
      assert.deepEqual(shownWith(api, 'Olga asks everyone to follow them')?.actions, ['Follow']);
      await config().update('acceptFocusRequests', undefined, vscode.ConfigurationTarget.Global);
    });

    test('ends the session with “the host removed you” when the host removes this window’s user', async () => {
      await joinWhenAsked(true);
      await eventually(() => api.session.state === 'live', state);
      const removed = await call(
        relay,
        'DELETE',
        `/api/sessions/${created.session_id}/participants/${me()}`,
        undefined,
        created.host.token,
      );
      assert.equal(removed.status, 200);
      await eventually(() => api.session.state === 'ended', state);
      assert.equal(api.session.endReason, 'the host removed you from the session');
      assert.ok(shownWith(api, 'The host removed you from the session'), 'told so');
    });
  });
});
