/**
 * Sessions from VS Code, against a real relay: Start Session (personal token from secret storage,
 * invite link on the clipboard), guests joining and leaving (announced, counted in the status
 * bar), End Session (guests are told), Join Session from a link, the host ending it, a lost
 * connection that comes back by itself, and bad links.
 */
import assert from 'node:assert/strict';
import { suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';
import * as vscode from 'vscode';
import WebSocket from 'ws';
import { createNodeWsTransport, RelayClient } from '../../../protocol';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import type { TandemApi } from '../../../extension/extension';
import { RelayProcess } from '../../support/relay-process';
import { startRedisServer } from '../../support/redis-server';
import { eventually } from '../support/eventually';

const transport = createNodeWsTransport(WebSocket);

async function post<T>(url: string, body: unknown, token?: string, method = 'POST'): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** A guest outside VS Code: redeems an invite and connects with the typed client. */
async function guest(relay: RelayProcess, invite: string, name: string): Promise<RelayClient> {
  const redeemed = await post<{ token: string; ws_url: string }>(`${relay.httpUrl}/api/invites/redeem`, { invite, name });
  const client = new RelayClient({ url: redeemed.ws_url, token: redeemed.token, transport });
  client.connect();
  await eventually(
    () => client.state === 'open',
    () => `the guest ${name} to connect (state ${client.state})`,
  );
  return client;
}

suite('sessions', () => {
  let relay: RelayProcess;
  let api: TandemApi;
  const clients: RelayClient[] = [];
  const session = () => api.session;
  const state = () => `state ${session().state}, status bar "${api.statusBar.text}", ended: ${session().endReason ?? '-'}`;

  suiteSetup(async () => {
    relay = await RelayProcess.start();
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('tandem').update('displayName', 'Hana Host', vscode.ConfigurationTarget.Global);
  });
  teardown(async () => {
    for (const client of clients.splice(0)) client.dispose();
    if (session().isActive) session().leave();
    session().reset();
  });
  suiteTeardown(async () => {
    await relay?.stop();
    await vscode.workspace.getConfiguration('tandem').update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
    await vscode.workspace.getConfiguration('tandem').update('displayName', undefined, vscode.ConfigurationTarget.Global);
  });

  test('Start Session hosts a live session, puts the invite on the clipboard, counts guests; End Session ends it for them', async () => {
    const personal = mintPersonalToken(relay.secret, { user: 'hana', name: 'Hana Host', ttl: '1h' });
    await vscode.commands.executeCommand('tandem.setPersonalToken', personal);
    assert.equal(await api.personalTokens.get(relay.httpUrl), personal, 'the token is in secret storage');

    await vscode.commands.executeCommand('tandem.startSession');
    await eventually(() => session().state === 'live', state);
    const info = session().info!;
    assert.equal(info.role, 'host');
    assert.match(info.sessionId, /^ses-/);
    const link = await vscode.env.clipboard.readText();
    assert.equal(link, info.invites!.editor.link);
    assert.match(link, /^vscode:\/\/tandem\.tandem\/join\?/);
    await eventually(
      () => api.statusBar.text.includes('live') && /\$\(person\) 1/.test(api.statusBar.text) && / \d+ ms/.test(api.statusBar.text),
      state,
    );

    const bob = await guest(relay, new URL(link).searchParams.get('invite')!, 'Bob');
    clients.push(bob);
    await eventually(() => /\$\(person\) 2/.test(api.statusBar.text), state);
    assert.deepEqual(
      session()
        .participants.map((p) => p.display_name)
        .sort(),
      ['Bob', 'Hana Host'],
    );

    // The relay's notices (here the host's, through the REST API) reach the user as they are.
    const notices: string[] = [];
    const listening = session().onDidNotify((notice) => notices.push(`${notice.level}: ${notice.message}`));
    try {
      await post(
        `${relay.httpUrl}/api/notifications`,
        { session_id: info.sessionId, level: 'warning', message: 'Relay restart at noon' },
        info.token,
      );
      await eventually(
        () => notices.includes('warning: Relay restart at noon'),
        () => `the notice (got ${JSON.stringify(notices)})`,
      );
    } finally {
      listening.dispose();
    }

    const disconnects: string[] = [];
    bob.onDisconnected((info) => disconnects.push(info.serverDisconnect?.reason ?? info.cause));
    await vscode.commands.executeCommand('tandem.endSession');
    await eventually(() => session().state === 'ended', state);
    await eventually(
      () => disconnects.includes('session_ended'),
      () => `bob to be told the session ended (got ${disconnects.join(', ')})`,
    );
    assert.equal(bob.state, 'closed', 'the guest does not try to reconnect to an ended session');
  });

  test('Join Session with an invite link joins as its role; the host ending the session ends it here', async () => {
    const created = await post<{ session_id: string; host: { token: string }; invites: { viewer: { link: string } } }>(
      `${relay.httpUrl}/api/sessions`,
      {},
      mintPersonalToken(relay.secret, { user: 'olga', name: 'Olga', ttl: '1h' }),
    );
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.viewer.link);
    await eventually(() => session().state === 'live', state);
    assert.equal(session().info!.role, 'viewer');
    assert.equal(session().info!.displayName, 'Hana Host');
    assert.equal(session().info!.sessionId, created.session_id);

    await post(`${relay.httpUrl}/api/sessions/${created.session_id}`, undefined, created.host.token, 'DELETE');
    await eventually(() => session().state === 'ended', state);
    assert.equal(session().endReason, 'the host ended the session');
    assert.match(api.statusBar.text, /ended/);
  });

  test('a lost connection is retried by itself: reconnecting, then live again', async function () {
    this.timeout(90_000);
    // On Redis, whose session record outlives the relay: a relay restarted without Redis has
    // forgotten the session, and its tokens are refused (SESSION_NOT_FOUND, the test below).
    const redis = await startRedisServer();
    const scaled = await RelayProcess.start({ REDIS_URL: redis.url });
    try {
      const created = await post<{ invites: { editor: { link: string } } }>(
        `${scaled.httpUrl}/api/sessions`,
        {},
        mintPersonalToken(scaled.secret, { user: 'olga', ttl: '1h' }),
      );
      await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
      await eventually(() => session().state === 'live', state);
      await scaled.kill();
      await eventually(() => session().state === 'reconnecting', state);
      assert.match(api.statusBar.text, /reconnecting/);
      await scaled.restart();
      await eventually(() => session().state === 'live', state, 40_000);
    } finally {
      await scaled.stop();
      await redis.dispose();
    }
  });

  test('a relay restarted without Redis has ended its sessions: the guest stops instead of retrying', async function () {
    this.timeout(60_000);
    const created = await post<{ invites: { editor: { link: string } } }>(
      `${relay.httpUrl}/api/sessions`,
      {},
      mintPersonalToken(relay.secret, { user: 'olga', ttl: '1h' }),
    );
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
    await eventually(() => session().state === 'live', state);
    await relay.kill();
    await relay.restart();
    await eventually(() => session().state === 'ended', state, 40_000);
    assert.match(session().endReason ?? '', /No such session/);
  });

  test('the relay losing Redis shows in the status bar, and clears once Redis is back', async function () {
    this.timeout(120_000);
    const redis = await startRedisServer({ persistence: 'aof-always' });
    const scaled = await RelayProcess.start({ REDIS_URL: redis.url });
    try {
      const created = await post<{ invites: { editor: { link: string } } }>(
        `${scaled.httpUrl}/api/sessions`,
        {},
        mintPersonalToken(scaled.secret, { user: 'olga', ttl: '1h' }),
      );
      await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
      await eventually(() => session().state === 'live', state);
      assert.equal(session().relayDegraded, false);

      await redis.stop();
      // On failure, what the relay said about the connection meanwhile.
      const relayLog = () =>
        `${state()}; relay: ${scaled.log
          .split('\n')
          .filter((line) => /WARNING|ERROR|clos|disconnect/i.test(line))
          .slice(-8)
          .join(' | ')
          .slice(0, 3000)}`;
      // Still live (the relay keeps its clients through an outage), and "relay degraded".
      await eventually(
        () => session().state === 'live' && session().relayDegraded && /relay degraded/.test(api.statusBar.text),
        relayLog,
        30_000,
      );
      await redis.restart();
      // The relay says it is back and has everyone reconnect: live again, nothing degraded.
      await eventually(() => session().state === 'live' && !session().relayDegraded && !/degraded/.test(api.statusBar.text), state, 60_000);
    } finally {
      await scaled.stop();
      await redis.dispose();
    }
  });

  test('a bad link or an ended session is refused with a clear message, and nothing starts', async () => {
    await vscode.commands.executeCommand('tandem.joinSession', 'https://example.com/not-an-invite');
    assert.equal(session().state, 'idle');
    await vscode.commands.executeCommand('tandem.joinSession', 'vscode://tandem.tandem/join?relay=ftp%3A%2F%2Fx&invite=abc');
    assert.equal(session().state, 'idle');
    const created = await post<{ session_id: string; host: { token: string }; invites: { editor: { link: string } } }>(
      `${relay.httpUrl}/api/sessions`,
      {},
      mintPersonalToken(relay.secret, { user: 'olga', ttl: '1h' }),
    );
    await post(`${relay.httpUrl}/api/sessions/${created.session_id}`, undefined, created.host.token, 'DELETE');
    await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
    assert.equal(session().state, 'idle', 'an ended session is not joined');
  });
});
