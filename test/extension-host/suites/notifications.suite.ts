/**
 * Notifications against a real relay: what `tandem.notifications` lets through (joins with Follow
 * only for `all`; the relay's notices and the connection for `important`), a chat message while
 * the Chat view is hidden (Open Chat, with `tandem.notifyOnChatMessage`), and that an action runs.
 * The toasts are the real `vscode.window.show*Message` calls, observed through `api.notifier`.
 */
import assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient } from '../../../protocol';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import type { TandemApi } from '../../../extension/extension';
import { RelayProcess } from '../../support/relay-process';
import { eventually } from '../support/eventually';

const transport = createNodeWsTransport(WebSocket);

suite('notifications', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  const clients: RelayClient[] = [];
  const config = () => vscode.workspace.getConfiguration('tandem');
  const shown = () => api.notifier.shown.map((n) => `${n.severity}: ${n.message} [${n.actions.join(', ')}]`);

  async function host(): Promise<void> {
    await vscode.commands.executeCommand('tandem.setPersonalToken', mintPersonalToken(relay.secret, { user: 'hana', ttl: '1h' }));
    await vscode.commands.executeCommand('tandem.startSession');
    await eventually(
      () => api.session.state === 'live',
      () => api.session.state,
    );
  }

  async function guest(name: string): Promise<RelayClient> {
    const invite = new URL(api.session.info!.invites!.editor.link).searchParams.get('invite')!;
    const response = await fetch(`${relay.httpUrl}/api/invites/redeem`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ invite, name }),
    });
    const redeemed = (await response.json()) as { token: string; ws_url: string };
    const client = new RelayClient({ url: redeemed.ws_url, token: redeemed.token, transport });
    clients.push(client);
    client.connect();
    await eventually(
      () => client.state === 'open',
      () => client.state,
    );
    return client;
  }

  suiteSetup(async () => {
    relay = await RelayProcess.start();
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    await config().update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
  });
  teardown(async () => {
    for (const client of clients.splice(0)) client.dispose();
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await config().update('notifications', undefined, vscode.ConfigurationTarget.Global);
    await config().update('notifyOnChatMessage', undefined, vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(async () => {
    await relay?.stop();
    await config().update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
  });

  test('important (the default): the relay’s notices, not joins or leaves; all: a join with Follow that follows', async () => {
    await host();
    const before = api.notifier.shown.length;
    const bob = await guest('Bob');
    const response = await fetch(`${relay.httpUrl}/api/notifications`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${api.session.info!.token}` },
      body: JSON.stringify({ session_id: api.session.info!.sessionId, level: 'warning', message: 'Relay restart at noon' }),
    });
    assert.equal(response.status, 202);
    await eventually(
      () => shown().includes('warning: Tandem (relay): Relay restart at noon []'),
      () => shown().join('\n'),
    );
    assert.ok(!api.notifier.shown.slice(before).some((n) => n.message.includes('Bob joined')), shown().join('\n'));
    bob.dispose();

    await config().update('notifications', 'all', vscode.ConfigurationTarget.Global);
    const carol = await guest('Carol');
    await eventually(
      () => api.notifier.shown.some((n) => n.message.includes('Carol joined')),
      () => shown().join('\n'),
    );
    const joined = api.notifier.shown.find((n) => n.message.includes('Carol joined'))!;
    assert.deepEqual([joined.severity, joined.actions], ['info', ['Follow', 'Open Chat']]);
    assert.ok(api.notifier.choose(joined, 'Follow'));
    await eventually(
      () => api.follow.following === carol.connection!.user.user_id,
      () => `following ${api.follow.following}`,
    );
    api.follow.stop();
  });

  test('none: nothing; a chat message while the view is hidden: Open Chat (with notifyOnChatMessage), and the badge counts', async () => {
    await host();
    await config().update('notifications', 'none', vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.view.explorer');
    await eventually(
      () => !api.chatView.visible,
      () => 'the chat view to be hidden',
    );
    const before = api.notifier.shown.length;
    const unread = api.chatView.unread;
    const dave = await guest('Dave');
    dave.sendChat({ content: 'quiet one' });
    await eventually(
      () => api.chatView.unread === unread + 1,
      () => `the badge (${api.chatView.unread})`,
    );
    assert.equal(api.notifier.shown.length, before, shown().slice(before).join('\n'));

    await config().update('notifications', 'important', vscode.ConfigurationTarget.Global);
    await config().update('notifyOnChatMessage', true, vscode.ConfigurationTarget.Global);
    dave.sendChat({ content: 'look at this' });
    await eventually(
      () => api.notifier.shown.some((n) => n.message === 'Tandem: Dave: look at this'),
      () => shown().join('\n'),
    );
    const notice = api.notifier.shown.find((n) => n.message === 'Tandem: Dave: look at this')!;
    assert.deepEqual(notice.actions, ['Open Chat']);
    assert.ok(api.notifier.choose(notice, 'Open Chat'));
    await eventually(
      () => api.chatView.visible && api.chatView.unread === 0,
      () => `the chat view to open (visible ${api.chatView.visible}, unread ${api.chatView.unread})`,
    );
  });

  test('the connection lost: a warning with Reconnect; back: said so', async function () {
    this.timeout(60_000);
    await host();
    const before = api.notifier.shown.length;
    await relay.kill();
    await eventually(
      () => api.notifier.shown.slice(before).some((n) => n.actions.includes('Reconnect')),
      () => shown().join('\n'),
    );
    const lost = api.notifier.shown.slice(before).find((n) => n.actions.includes('Reconnect'))!;
    assert.equal(lost.severity, 'warning');
    await relay.restart();
    assert.ok(api.notifier.choose(lost, 'Reconnect'));
    // A relay restarted without Redis has forgotten the session: it ends, and says so.
    await eventually(
      () => api.notifier.shown.slice(before).some((n) => n.severity === 'warning' && /refused|ended|disconnected/iu.test(n.message)),
      () => shown().slice(before).join('\n'),
      30_000,
    );
  });
});
