import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClientPayload } from '../../protocol';
import { clientFrame, samplePayloads, startTestRelay, type TestClient, type TestRelay } from '../support/relay-fixture';

/**
 * The host's language features through the relay (language.*): routed as the shared folder's
 * requests are, and each path checked against hostile input.
 */

/** A chat marker's echo: whatever was going to reach `client` before it has arrived (frames are handled in order). */
async function settle(client: TestClient, marker: string): Promise<void> {
  client.send(clientFrame('chat.message', samplePayloads.chat(marker)));
  await client.next('chat.message', (f) => f.payload.content === marker);
}

function connectionId(client: TestClient): string {
  const connect = client.frames[0]!;
  assert.ok(connect.event_type === 'connect');
  return connect.payload.connection_id;
}

const position = { line: 1, character: 4 };
const range = { start: position, end: { line: 1, character: 9 } };

describe('language features routing (language.*)', () => {
  let relay: TestRelay;
  beforeEach(async () => {
    relay = await startTestRelay();
  });
  afterEach(() => relay.stop());

  it('delivers a guest’s question to the host only, with the requester; the answer to that connection only', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bobAgain = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });

    bob.send(clientFrame('language.request', { request_id: 'q-1', op: 'hover', path: 'src/app.ts', position }));
    const delivered = await host.next('language.request');
    assert.deepEqual(delivered.payload, { request_id: 'q-1', op: 'hover', path: 'src/app.ts', position, requester: connectionId(bob) });
    assert.equal(delivered.user_id, 'bob');

    const answer: ClientPayload<'language.response'> = {
      request_id: 'q-1',
      requester: connectionId(bob),
      ok: true,
      result: { kind: 'hover', contents: ['`const x: number`'], range },
    };
    host.send(clientFrame('language.response', answer));
    assert.deepEqual((await bob.next('language.response')).payload, answer);

    // A viewer may ask too (every language op is a read), and cancel.
    carol.send(clientFrame('language.request', { request_id: 'q-2', op: 'definition', path: 'src/app.ts', position }));
    carol.send(clientFrame('language.request', { request_id: 'q-2', op: 'cancel' }));
    await host.until(() => host.of('language.request').length === 3, 'the viewer’s question and its cancel');
    assert.deepEqual(
      host.of('language.request').map((f) => [f.payload.op, f.payload.requester]),
      [
        ['hover', connectionId(bob)],
        ['definition', connectionId(carol)],
        ['cancel', connectionId(carol)],
      ],
    );

    for (const client of [bobAgain, carol, host]) await settle(client, `marker-${Math.random()}`);
    for (const client of [bobAgain, carol])
      assert.deepEqual([...client.of('language.request'), ...client.of('language.response')], [], 'nobody else sees it');
    assert.deepEqual(host.of('language.response'), [], 'not even the host’s own answer comes back');
  });

  it('sends the host’s diagnostics to everyone else in the session', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    const payload = { files: [{ path: 'src/app.ts', diagnostics: [{ range, message: 'Type mismatch', severity: 0, code: 2322 }] }] };
    host.send(clientFrame('language.diagnostics', payload));
    assert.deepEqual((await bob.next('language.diagnostics')).payload, payload);
    assert.deepEqual((await carol.next('language.diagnostics')).payload, payload);
    await settle(host, 'marker');
    assert.deepEqual(host.of('language.diagnostics'), []);
  });

  it('answers HOST_NOT_CONNECTED, naming the request, when the host is not there', async () => {
    const bob = await relay.connect('bob');
    bob.send(clientFrame('language.request', { request_id: 'lonely', op: 'documentSymbols', path: 'a.ts' }));
    const error = await bob.next('error');
    assert.equal(error.payload.code, 'HOST_NOT_CONNECTED');
    assert.equal(error.payload.request_id, 'lonely');
    assert.equal(error.payload.event_type, 'language.request');
  });

  it('refuses answers and diagnostics from guests with FORBIDDEN_ROLE: nothing reaches anyone', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const carol = await relay.connect('carol', { role: 'viewer' });
    const forged: ClientPayload<'language.response'> = {
      request_id: 'q-1',
      requester: connectionId(carol),
      ok: true,
      result: { kind: 'locations', locations: [{ path: 'evil.ts', range }], not_shared: 0, incomplete: false },
    };
    bob.send(clientFrame('language.response', forged));
    assert.equal((await bob.next('error', (f) => f.payload.event_type === 'language.response')).payload.code, 'FORBIDDEN_ROLE');
    bob.send(clientFrame('language.diagnostics', { files: [{ path: 'a.ts', diagnostics: [] }] }));
    assert.equal((await bob.next('error', (f) => f.payload.event_type === 'language.diagnostics')).payload.code, 'FORBIDDEN_ROLE');
    for (const client of [carol, host]) await settle(client, `marker-${Math.random()}`);
    assert.deepEqual([...carol.of('language.response'), ...carol.of('language.diagnostics'), ...host.of('language.diagnostics')], []);
  });

  it('refuses malformed and outside-the-folder questions with VALIDATION_FAILED, naming the field and the request', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const bad: Array<[payload: Record<string, unknown>, path: string]> = [
      [{ request_id: 'b-1', op: 'hover', path: '../../etc/passwd', position }, 'payload.path'],
      [{ request_id: 'b-2', op: 'definition', path: '/home/hana/.ssh/id_rsa', position }, 'payload.path'],
      [{ request_id: 'b-3', op: 'hover', path: 'a.ts', position: { line: -1, character: 0 } }, 'payload.position.line'],
      [{ request_id: 'b-4', op: 'hover', path: 'a.ts', position, requester: 'relay-1.1' }, 'payload.requester'],
      [{ request_id: 'b-5', op: 'rename', path: 'a.ts', position }, 'payload.op'],
    ];
    for (const [payload] of bad) bob.send({ event_type: 'language.request', payload });
    for (const [payload, path] of bad) {
      const error = await bob.next('error', (f) => f.payload.request_id === payload.request_id);
      assert.equal(error.payload.code, 'VALIDATION_FAILED', JSON.stringify(payload));
      assert.equal(error.payload.path, path, JSON.stringify(payload));
    }
    // An answer that would point a guest outside the folder is refused too, before anyone sees it.
    host.send({
      event_type: 'language.response',
      payload: {
        request_id: 'q-1',
        requester: connectionId(bob),
        ok: true,
        result: { kind: 'locations', locations: [{ path: '../secret.ts', range }], not_shared: 0, incomplete: false },
      },
    });
    const error = await host.next('error', (f) => f.payload.event_type === 'language.response');
    assert.equal(error.payload.code, 'VALIDATION_FAILED');
    await settle(host, 'marker');
    await settle(bob, 'marker-bob');
    assert.deepEqual(host.of('language.request'), [], 'nothing reached the host');
    assert.deepEqual(bob.of('language.response'), [], 'nothing reached the guest');
  });

  it('refuses a frame over the limit with FRAME_TOO_LARGE, and the connection goes on', async () => {
    const host = await relay.connect('hana', { role: 'host' });
    const bob = await relay.connect('bob');
    const limit = relay.config.limits.maxFrameBytes;
    const huge = Array.from({ length: 200 }, (_, i) => ({ label: `item${i}`, documentation: 'x'.repeat(Math.ceil(limit / 100)) }));
    host.send(
      clientFrame('language.response', {
        request_id: 'q-1',
        requester: connectionId(bob),
        ok: true,
        result: { kind: 'completion', items: huge, incomplete: false },
      }),
    );
    assert.equal((await host.next('error', (f) => f.payload.code === 'FRAME_TOO_LARGE')).payload.code, 'FRAME_TOO_LARGE');
    bob.send(clientFrame('language.request', { request_id: 'q-2', op: 'hover', path: 'a.ts', position }));
    assert.equal((await host.next('language.request')).payload.request_id, 'q-2');
    await settle(bob, 'marker');
    assert.deepEqual(bob.of('language.response'), []);
  });
});
