import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { clientFrame, openTestClient, samplePayloads, startTestRelay, type TestClient, type TestRelay } from '../support/relay-fixture';
import { callApi, createApiSession, redeemInvite } from '../support/rest-api';

/**
 * The host's shared terminals through the relay (terminal.*): the host's output, list and closes
 * to everyone else, guests' requests and editors' input to the host only, scrollback to the one
 * who asked; viewers never type, guests never speak for the host's shell.
 */

/** A chat marker's echo: whatever was going to reach `client` before it has arrived (frames are handled in order). */
async function settle(client: TestClient, marker = `marker-${Math.random()}`): Promise<void> {
  client.send(clientFrame('chat.message', samplePayloads.chat(marker)));
  await client.next('chat.message', (f) => f.payload.content === marker);
}

function connectionId(client: TestClient): string {
  const connect = client.frames[0]!;
  assert.ok(connect.event_type === 'connect');
  return connect.payload.connection_id;
}

const terminals = [{ terminal_id: 't-1', name: 'bash', guests_can_type: false }];
const terminalEvents = [
  'terminal.shared',
  'terminal.output',
  'terminal.request',
  'terminal.scrollback',
  'terminal.input',
  'terminal.closed',
] as const;
const terminalFrames = (client: TestClient) => terminalEvents.flatMap((event) => client.of(event));

describe('shared terminals routing (terminal.*)', () => {
  let relay: TestRelay;
  beforeEach(async () => {
    relay = await startTestRelay();
  });
  afterEach(() => relay.stop());

  it('sends the host’s list, output and close to everyone else, in order', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    host.send(clientFrame('terminal.shared', { terminals }));
    host.send(clientFrame('terminal.output', { terminal_id: 't-1', seq: 1, data: '$ ' }));
    host.send(clientFrame('terminal.output', { terminal_id: 't-1', seq: 2, data: 'echo hi\r\nhi\r\n' }));
    host.send(clientFrame('terminal.closed', { terminal_id: 't-1', reason: 'stopped' }));
    for (const guest of [bob, carol]) {
      await guest.next('terminal.closed');
      assert.deepEqual(
        terminalFrames(guest)
          .sort((a, b) => guest.frames.indexOf(a) - guest.frames.indexOf(b))
          .map((f) => [f.event_type, f.user_id]),
        [
          ['terminal.shared', 'hana'],
          ['terminal.output', 'hana'],
          ['terminal.output', 'hana'],
          ['terminal.closed', 'hana'],
        ],
      );
      assert.deepEqual(
        guest.of('terminal.output').map((f) => f.payload.data),
        ['$ ', 'echo hi\r\nhi\r\n'],
      );
    }
    await settle(host);
    assert.deepEqual(terminalFrames(host), [], 'nothing comes back to the host');
  });

  it('routes a guest’s request to the host with the requester, and the answer to that connection only', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    carol.send(clientFrame('terminal.request', { request_id: 'r-1' }));
    const asked = await host.next('terminal.request');
    assert.deepEqual(asked.payload, { request_id: 'r-1', requester: connectionId(carol) });
    assert.equal(asked.user_id, 'carol');
    host.send(clientFrame('terminal.shared', { terminals, requester: connectionId(carol) }));
    assert.deepEqual((await carol.next('terminal.shared')).payload, { terminals, requester: connectionId(carol) });

    carol.send(clientFrame('terminal.request', { request_id: 'r-2', terminal_id: 't-1', since_seq: 3 }));
    assert.deepEqual((await host.next('terminal.request', (f) => f.payload.request_id === 'r-2')).payload, {
      request_id: 'r-2',
      terminal_id: 't-1',
      since_seq: 3,
      requester: connectionId(carol),
    });
    const piece = {
      request_id: 'r-2',
      requester: connectionId(carol),
      terminal_id: 't-1',
      seq: 9,
      data: 'old output',
      gap: true,
      done: true,
    };
    host.send(clientFrame('terminal.scrollback', piece));
    assert.deepEqual((await carol.next('terminal.scrollback')).payload, piece);
    await settle(bob);
    await settle(host);
    assert.deepEqual(terminalFrames(bob), [], 'another guest sees none of it');
    assert.deepEqual([...host.of('terminal.shared'), ...host.of('terminal.scrollback')], []);
  });

  it('passes an editor’s input to the host only, naming the sender; a viewer’s is refused with FORBIDDEN_ROLE', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    bob.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'ls\r' }));
    const typed = await host.next('terminal.input');
    assert.deepEqual(typed.payload, { terminal_id: 't-1', data: 'ls\r', sender: connectionId(bob) });
    assert.equal(typed.user_id, 'bob');

    carol.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'touch /tmp/pwned\r' }));
    const refused = await carol.next('error', (f) => f.payload.event_type === 'terminal.input');
    assert.equal(refused.payload.code, 'FORBIDDEN_ROLE');
    // The host typing into its own terminal through the relay makes no sense either.
    host.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'x' }));
    assert.equal((await host.next('error', (f) => f.payload.event_type === 'terminal.input')).payload.code, 'FORBIDDEN_ROLE');
    await settle(carol);
    await settle(host);
    assert.equal(host.of('terminal.input').length, 1, 'only the editor’s input reached the host');
    assert.deepEqual(terminalFrames(bob), [], 'input goes to nobody else');
    assert.deepEqual(terminalFrames(carol), []);
  });

  it('refuses a viewer’s input after the host made an editor a viewer', async () => {
    const session = await createApiSession(relay);
    const host = await openTestClient(`${relay.url}?token=${session.host.token}`);
    const guest = await redeemInvite(relay, session.invites.editor.token, 'Bob');
    const bob = await openTestClient(`${relay.url}?token=${guest.token}`);
    bob.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'ls\r' }));
    await host.next('terminal.input');
    const changed = await callApi(relay, 'PATCH', `/api/sessions/${session.session_id}/participants/${guest.user_id}`, {
      token: session.host.token,
      body: { role: 'viewer' },
    });
    assert.equal(changed.status, 200, changed.text);
    await bob.next('session.role_changed');
    bob.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'ls\r' }));
    assert.equal((await bob.next('error', (f) => f.payload.event_type === 'terminal.input')).payload.code, 'FORBIDDEN_ROLE');
    await settle(host);
    assert.equal(host.of('terminal.input').length, 1, 'only the input typed as an editor');
    host.close();
    bob.close();
  });

  it('refuses output, lists, closes and scrollback from guests with FORBIDDEN_ROLE: nothing reaches anyone', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    const forged = [
      clientFrame('terminal.output', { terminal_id: 't-1', seq: 1, data: 'rm -rf / done\r\n' }),
      clientFrame('terminal.shared', { terminals }),
      clientFrame('terminal.closed', { terminal_id: 't-1', reason: 'stopped' }),
      clientFrame('terminal.scrollback', {
        request_id: 'r-1',
        requester: connectionId(carol),
        terminal_id: 't-1',
        seq: 1,
        data: 'x',
        gap: false,
        done: true,
      }),
    ];
    for (const frame of forged) {
      bob.send(frame);
      assert.equal((await bob.next('error', (f) => f.payload.event_type === frame.event_type)).payload.code, 'FORBIDDEN_ROLE');
    }
    await settle(carol);
    await settle(host);
    assert.deepEqual([...terminalFrames(carol), ...terminalFrames(host)], []);
  });

  it('refuses malformed frames with VALIDATION_FAILED naming the field, and a frame over the limit with FRAME_TOO_LARGE', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bad: Array<[event: string, payload: Record<string, unknown>, path: string]> = [
      ['terminal.input', { terminal_id: 't-1', data: 'ls', sender: connectionId(host) }, 'payload.sender'],
      ['terminal.input', { terminal_id: '../t', data: 'ls' }, 'payload.terminal_id'],
      ['terminal.input', { terminal_id: 't-1', data: 'x'.repeat(4097) }, 'payload.data'],
      ['terminal.request', { request_id: 'r-1', requester: connectionId(host) }, 'payload.requester'],
    ];
    for (const [event_type, payload, path] of bad) {
      bob.send({ event_type, payload });
      const error = await bob.next('error', (f) => f.payload.path === path);
      assert.equal(error.payload.code, 'VALIDATION_FAILED', JSON.stringify(payload).slice(0, 100));
    }
    host.send({ event_type: 'terminal.output', payload: { terminal_id: 't-1', seq: 1, data: 'x'.repeat(16_385) } });
    assert.equal((await host.next('error', (f) => f.payload.event_type === 'terminal.output')).payload.path, 'payload.data');
    const limit = relay.config.limits.maxFrameBytes;
    host.send({ event_type: 'terminal.output', payload: { terminal_id: 't-1', seq: 1, data: '\u0001'.repeat(Math.ceil(limit / 6) + 10) } });
    // Within the schema's length, but over the frame limit once escaped: the host must cut by encoded size.
    await host.next('error', (f) => f.payload.code === 'FRAME_TOO_LARGE');
    await settle(host);
    await settle(bob);
    assert.deepEqual(terminalFrames(host), [], 'nothing reached the host');
    assert.deepEqual(terminalFrames(bob), [], 'nothing reached the guest');
  });

  it('answers HOST_NOT_CONNECTED, naming the request, when the host is not there', async () => {
    const bob = await relay.connect('bob');
    bob.send(clientFrame('terminal.request', { request_id: 'lonely' }));
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'HOST_NOT_CONNECTED');
    assert.equal(error.payload.request_id, 'lonely');
    bob.send(clientFrame('terminal.input', { terminal_id: 't-1', data: 'ls\r' }));
    assert.equal((await bob.next('error', (f) => f.payload.event_type === 'terminal.input')).payload.code, 'HOST_NOT_CONNECTED');
  });
});
