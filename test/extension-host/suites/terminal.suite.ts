/**
 * Shared terminals (issue 17, item 3), from VS Code, against a real relay, each side in turn. As
 * the host, this window shares a terminal on a real shell (Tandem: Share Terminal) while the suite
 * plays guests on plain RelayClients: they see what the host's shell prints, a guest's keys never
 * reach the shell while it is read-only (the file it tries to make never appears), an editor's do
 * once the host allows it (and the status bar says so), a viewer's never, a late joiner gets the
 * scrollback, and stopping the share closes it for them. As a guest, this window shows the host's
 * terminal (played by the suite): scrollback then live output, typing dropped with a hint while
 * read-only and sent once allowed, and the terminal closed when the host stops or the session ends.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite, suiteSetup, suiteTeardown, test } from 'mocha';
import * as vscode from 'vscode';
import type { RelayClient, ServerPayload, TerminalInputOut } from '../../../protocol';
import type { TandemApi } from '../../../extension/extension';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { startTestRelay, TEST_SECRET, type TestRelay } from '../../support/relay-fixture';
import { connectClient, createSession, eventually } from '../support/shared-folder';

/** A guest played by the suite: its client and what it received of the terminals. */
interface Guest {
  client: RelayClient;
  output: () => string;
  /** The seq of each output piece it got live. */
  seqs: number[];
  lists: Array<ServerPayload<'terminal.shared'>>;
  closed: Array<ServerPayload<'terminal.closed'>>;
  errors: Array<{ code: string; event?: string }>;
}

function watch(client: RelayClient): Guest {
  const pieces: string[] = [];
  const guest: Guest = { client, output: () => pieces.join(''), seqs: [], lists: [], closed: [], errors: [] };
  client.on('terminal.output', (piece) => {
    pieces.push(piece.data);
    guest.seqs.push(piece.seq);
  });
  client.on('terminal.shared', (list) => guest.lists.push(list));
  client.on('terminal.closed', (closed) => guest.closed.push(closed));
  client.on('error', (error) => guest.errors.push({ code: error.code, ...(error.event_type && { event: error.event_type }) }));
  return guest;
}

suite('shared terminal', () => {
  let relay: TestRelay;
  let api: TandemApi;
  const clients: RelayClient[] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'tandem-terminal-'));
  const config = () => vscode.workspace.getConfiguration('tandem');
  const state = () => `state ${api.session.state} (${api.session.endReason ?? '-'})`;

  suiteSetup(async () => {
    relay = await startTestRelay();
    const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
    assert.ok(extension);
    api = await extension.activate();
    if (api.session.isActive) api.session.leave();
    api.session.reset();
    await config().update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(async () => {
    for (const client of clients.splice(0)) client.dispose();
    if (api?.session.isActive) api.session.leave();
    api?.session.reset();
    await config().update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
    await relay?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  suite('as the host', () => {
    let terminalId: string;

    suiteSetup(async () => {
      await vscode.commands.executeCommand(
        'tandem.setPersonalToken',
        mintPersonalToken(TEST_SECRET, { user: 'hana', name: 'Hana', ttl: '1h' }),
      );
      await vscode.commands.executeCommand('tandem.startSession');
      await eventually(() => api.session.state === 'live', state);
    });
    suiteTeardown(async () => {
      if (api.session.isActive) await vscode.commands.executeCommand('tandem.endSession');
      api.session.reset();
    });

    /** A guest who redeemed the host's invite, connected as a plain client. */
    async function guest(name: string, role: 'editor' | 'viewer'): Promise<Guest> {
      const invite = new URL(api.session.info!.invites![role].link).searchParams.get('invite');
      const response = await fetch(`${relay.httpUrl}/api/invites/redeem`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ invite, name }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const redeemed = (await response.json()) as { token: string; ws_url: string };
      const client = await connectClient(redeemed.ws_url, redeemed.token);
      clients.push(client);
      await eventually(
        () => api.session.participants.some((p) => p.display_name === name),
        () => `${name} among the host's participants`,
      );
      return watch(client);
    }

    let bob: Guest;
    let carol: Guest;
    const hostTerminal = () => api.terminals.host!.shared.find((t) => t.id === terminalId)!;

    test('shares a terminal on a real shell: guests see it read-only and get what the shell prints', async function () {
      this.timeout(60_000);
      bob = await guest('Bob', 'editor');
      carol = await guest('Carol', 'viewer');
      terminalId = (await vscode.commands.executeCommand<string>('tandem.shareTerminal'))!;
      assert.ok(terminalId, 'Share Terminal returns the id');
      for (const [name, g] of [
        ['Bob', bob],
        ['Carol', carol],
      ] as const)
        await eventually(
          () => g.lists.at(-1)?.terminals.some((t) => t.terminal_id === terminalId && !t.guests_can_type) === true,
          () => `${name} told of the read-only share (${JSON.stringify(g.lists)})`,
        );
      await hostTerminal().whenOpen();
      // code-server ships VS Code's node-pty built for its Node: the shell runs in a real pseudo-terminal.
      assert.equal(hostTerminal().shellKind, 'pty');
      assert.match(hostTerminal().terminal.name, /\(shared, read-only for guests\)$/);
      assert.equal(api.terminals.grantText, '', 'nothing in the status bar while read-only');
      hostTerminal().terminal.sendText('echo tandem-$((6*7))');
      for (const [name, g] of [
        ['Bob', bob],
        ['Carol', carol],
      ] as const)
        await eventually(
          () => g.output().includes('tandem-42'),
          () => `${name} to see the shell's answer (kind ${hostTerminal().shellKind}): ${JSON.stringify(g.output().slice(-300))}`,
          30_000,
        );
    });

    test('a guest’s input never reaches the shell while the terminal is read-only', async () => {
      const target = join(scratch, 'read-only');
      const refusals = api.terminals.host!.refusals;
      assert.ok(bob.client.send('terminal.input', { terminal_id: terminalId, data: `touch ${target}\r` }));
      await eventually(
        () => api.terminals.host!.refusals > refusals,
        () => 'the host to refuse the input',
      );
      // A marker command the host runs itself: once its output is back, the shell would have run the guest's line before it.
      hostTerminal().terminal.sendText('echo marker-$((1+1))');
      await eventually(
        () => bob.output().includes('marker-2'),
        () => 'the marker',
      );
      assert.equal(existsSync(target), false, 'the guest’s command did not run');
      assert.ok(!bob.output().includes(target), 'not even echoed by the shell');
    });

    test('after Allow Guests to Type, an editor’s input runs and the status bar says so; a viewer’s never does', async () => {
      await vscode.commands.executeCommand('tandem.allowTerminalInput', terminalId);
      assert.equal(hostTerminal().guestsCanType, true);
      assert.match(api.terminals.grantText, /\$\(terminal\) guests can type/);
      await eventually(
        () => bob.lists.at(-1)?.terminals.find((t) => t.terminal_id === terminalId)?.guests_can_type === true,
        () => 'Bob told he may type',
      );
      const byBob = join(scratch, 'by-editor');
      const byCarol = join(scratch, 'by-viewer');
      assert.ok(carol.client.send('terminal.input', { terminal_id: terminalId, data: `touch ${byCarol}\r` }));
      await eventually(
        () => carol.errors.some((e) => e.code === 'FORBIDDEN_ROLE' && e.event === 'terminal.input'),
        () => `the relay to refuse the viewer (${JSON.stringify(carol.errors)})`,
      );
      assert.ok(bob.client.send('terminal.input', { terminal_id: terminalId, data: `touch ${byBob}\r` }));
      await eventually(
        () => existsSync(byBob),
        () => `the editor’s command to run: ${JSON.stringify(bob.output().slice(-300))}`,
      );
      assert.equal(existsSync(byCarol), false, 'the viewer’s command never ran');
    });

    test('a late joiner gets the scrollback; Make Read-Only clears the status bar; Stop Sharing closes it for guests', async () => {
      const dave = await guest('Dave', 'viewer');
      const scrollback: Array<ServerPayload<'terminal.scrollback'>> = [];
      dave.client.on('terminal.scrollback', (piece) => scrollback.push(piece));
      assert.ok(dave.client.send('terminal.request', { request_id: 'list' }));
      await eventually(
        () => dave.lists.some((l) => l.requester !== undefined && l.terminals.some((t) => t.terminal_id === terminalId)),
        () => 'the list, to Dave',
      );
      assert.ok(dave.client.send('terminal.request', { request_id: 'catch-up', terminal_id: terminalId }));
      await eventually(
        () => scrollback.some((piece) => piece.done),
        () => 'the whole scrollback',
      );
      const text = scrollback.map((piece) => piece.data).join('');
      assert.ok(text.includes('tandem-42') && text.includes('marker-2'), JSON.stringify(text.slice(-300)));
      // The shell may still be writing (a prompt after the last command): what it wrote after the
      // catch-up reaches Dave live, from the next seq on, so that he misses nothing.
      const caughtUpTo = scrollback.at(-1)!.seq;
      assert.ok(caughtUpTo <= hostTerminal().scrollback.lastSeq);
      await eventually(
        () => {
          const last = hostTerminal().scrollback.lastSeq;
          for (let seq = caughtUpTo + 1; seq <= last; seq++) if (!dave.seqs.includes(seq)) return false;
          return true;
        },
        () => `output after seq ${caughtUpTo} to Dave (got ${JSON.stringify(dave.seqs)}, host at ${hostTerminal().scrollback.lastSeq})`,
      );

      await vscode.commands.executeCommand('tandem.revokeTerminalInput', terminalId);
      assert.equal(api.terminals.grantText, '');
      const terminal = hostTerminal();
      await vscode.commands.executeCommand('tandem.stopSharingTerminal', terminalId);
      for (const [name, g] of [
        ['Bob', bob],
        ['Dave', dave],
      ] as const)
        await eventually(
          () => g.closed.some((c) => c.terminal_id === terminalId && c.reason === 'stopped'),
          () => `${name} told the share stopped`,
        );
      assert.equal(api.terminals.host!.shared.length, 0);
      assert.equal(terminal.shared, false);
      terminal.dispose();
    });
  });

  suite('as a guest', () => {
    let host: RelayClient;
    const typed: TerminalInputOut[] = [];
    const terminals = [{ terminal_id: 't-1', name: 'bash', guests_can_type: false }];

    suiteSetup(async () => {
      const created = await createSession(relay);
      host = await connectClient(relay.url, created.host.token);
      clients.push(host);
      // The suite's host: it shares one terminal whose earlier output it kept (pieces 1 and 2).
      host.on('terminal.request', (request) => {
        if (request.terminal_id === undefined) host.send('terminal.shared', { terminals, requester: request.requester });
        else
          host.send('terminal.scrollback', {
            request_id: request.request_id,
            requester: request.requester,
            terminal_id: 't-1',
            seq: 2,
            data: 'earlier output\r\n',
            gap: false,
            done: true,
          });
      });
      host.on('terminal.input', (input) => typed.push(input));
      await vscode.commands.executeCommand('tandem.joinSession', created.invites.editor.link);
      await eventually(() => api.session.state === 'live', state);
    });
    suiteTeardown(() => {
      if (api.session.isActive) api.session.leave();
      api.session.reset();
    });

    const shown = () => api.terminals.guest?.shown.get('t-1');

    test('shows the host’s terminal read-only: the scrollback, then live output', async () => {
      await eventually(
        () => shown() !== undefined,
        () => 'the host’s terminal to appear',
      );
      assert.equal(shown()!.terminal.name, "Hana's bash (read-only)");
      await eventually(
        () => shown()!.text.includes('earlier output'),
        () => `the scrollback (${JSON.stringify(shown()!.text)})`,
      );
      host.send('terminal.output', { terminal_id: 't-1', seq: 3, data: 'live from the host\r\n' });
      await eventually(
        () => shown()!.text.includes('live from the host'),
        () => `the live output (${JSON.stringify(shown()!.text)})`,
      );
      assert.equal(shown()!.text.indexOf('earlier output') < shown()!.text.indexOf('live from the host'), true, 'in order');
    });

    test('drops what the user types while read-only (with a hint), sends it once the host allows typing', async () => {
      shown()!.terminal.sendText('ls');
      await eventually(
        () => shown()!.text.includes('read-only'),
        () => `the hint (${JSON.stringify(shown()!.text)})`,
      );
      host.send('terminal.shared', { terminals: [{ ...terminals[0]!, guests_can_type: true }] });
      await eventually(
        () => shown()!.info.guests_can_type,
        () => 'the grant to arrive',
      );
      assert.equal(typed.length, 0, 'nothing was sent while read-only');
      shown()!.terminal.sendText('pwd');
      await eventually(
        () => typed.length > 0,
        () => 'the input to reach the host',
      );
      assert.equal(typed.map((t) => t.data).join(''), 'pwd\r');
      assert.equal(typed[0]!.terminal_id, 't-1');
    });

    test('closes the terminal, with a message, when the host stops sharing it or the session ends', async () => {
      const closedTerminals: vscode.Terminal[] = [];
      const listener = vscode.window.onDidCloseTerminal((terminal) => closedTerminals.push(terminal));
      try {
        const first = shown()!.terminal;
        host.send('terminal.closed', { terminal_id: 't-1', reason: 'stopped' });
        await eventually(
          () => closedTerminals.includes(first),
          () => 'the guest terminal to close',
        );
        assert.ok(api.notifier.shown.some((n) => n.message.includes('Hana stopped sharing the terminal "bash"')));
        host.send('terminal.shared', { terminals });
        await eventually(
          () => shown() !== undefined && shown()!.terminal !== first,
          () => 'the terminal shared again',
        );
        const second = shown()!.terminal;
        api.session.leave();
        await eventually(
          () => closedTerminals.includes(second),
          () => 'the guest terminal to close with the session',
        );
      } finally {
        listener.dispose();
      }
    });
  });
});
