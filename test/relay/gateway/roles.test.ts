import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  clientFrame,
  fetchStats,
  openDocument,
  samplePayloads,
  startTestRelay,
  type TestClient,
  type TestRelay,
  withoutEpoch,
} from '../../support/relay-fixture';

describe('roles and what a frame may claim', () => {
  let relay: TestRelay;
  /** Host, editor and viewer in s1. */
  let host: TestClient;
  let editor: TestClient;
  let viewer: TestClient;
  beforeEach(async () => {
    relay = await startTestRelay();
    host = await relay.connect('hank', { role: 'host' });
    editor = await relay.connect('eve', { role: 'editor' });
    viewer = await relay.connect('vic', { role: 'viewer' });
  });
  afterEach(() => relay.stop());
  /** `sender` chats a marker; once `receiver` has it, whatever `sender` sent before has been handled. */
  async function marker(sender: TestClient, receiver: TestClient, text = 'marker'): Promise<void> {
    sender.send(clientFrame('chat.message', samplePayloads.chat(text)));
    await receiver.next('chat.message', (f) => f.payload.content === text && f.user_id !== 'system');
  }

  it('refuses a viewer’s edit with FORBIDDEN_ROLE and relays it to nobody', async () => {
    await openDocument(host);
    await openDocument(editor);
    await openDocument(viewer);
    viewer.send(clientFrame('collaboration.edit', samplePayloads.edit()));
    const error = await viewer.next('error');
    assert.equal(error.payload.code, 'FORBIDDEN_ROLE');
    assert.equal(error.payload.event_type, 'collaboration.edit');
    assert.equal(error.user_id, 'system');

    await marker(viewer, host);
    await editor.next('chat.message', (f) => f.payload.content === 'marker');
    assert.deepEqual(host.of('collaboration.edit'), []);
    assert.deepEqual(editor.of('collaboration.edit'), []);
    assert.equal((await fetchStats(relay)).errors.FORBIDDEN_ROLE, 1);
    assert.deepEqual(withoutEpoch(await openDocument(host)), { document: 'src/main.ts', rev: 0, text: '' }, 'the document is unchanged');
  });

  it('lets a viewer join an existing document but not create one', async () => {
    viewer.send(clientFrame('collaboration.open', samplePayloads.open({ text: 'mine' })));
    const error = await viewer.next('error');
    assert.equal(error.payload.code, 'DOCUMENT_NOT_FOUND');
    assert.equal(error.payload.event_type, 'collaboration.open');
    assert.deepEqual(viewer.of('collaboration.snapshot'), []);
    assert.deepEqual(withoutEpoch(await openDocument(host, 'src/main.ts', 'theirs')), { document: 'src/main.ts', rev: 0, text: 'theirs' });
    assert.deepEqual(withoutEpoch(await openDocument(viewer)), { document: 'src/main.ts', rev: 0, text: 'theirs' });
  });

  it('refuses a viewer’s breakpoint with FORBIDDEN_ROLE and relays it to nobody', async () => {
    viewer.send(clientFrame('debugging.breakpoint', samplePayloads.breakpoint()));
    const error = await viewer.next('error');
    assert.equal(error.payload.code, 'FORBIDDEN_ROLE');
    assert.equal(error.payload.event_type, 'debugging.breakpoint');

    await marker(viewer, host);
    await editor.next('chat.message', (f) => f.payload.content === 'marker');
    assert.deepEqual(host.of('debugging.breakpoint'), []);
    assert.deepEqual(editor.of('debugging.breakpoint'), []);
  });

  it('relays a viewer’s cursor', async () => {
    await openDocument(host, 'src/main.ts', 'hello');
    for (const client of [editor, viewer]) await openDocument(client);
    viewer.send(clientFrame('collaboration.cursor', samplePayloads.cursor()));
    const cursor = await host.next('collaboration.cursor');
    assert.equal(cursor.user_id, 'vic');
    assert.deepEqual(cursor.payload, samplePayloads.cursor({ rev: 0 }), 'stamped with the head revision');
    assert.equal((await editor.next('collaboration.cursor')).user_id, 'vic');
    assert.deepEqual(viewer.of('error'), []);
  });

  it('relays a viewer’s chat', async () => {
    viewer.send(clientFrame('chat.message', samplePayloads.chat('can I watch?')));
    assert.equal((await host.next('chat.message')).user_id, 'vic');
    assert.equal((await editor.next('chat.message')).payload.content, 'can I watch?');
    assert.deepEqual(viewer.of('error'), []);
  });

  it('relays edits and breakpoints from an editor and from a host', async () => {
    for (const client of [host, editor, viewer]) await openDocument(client);
    editor.send(clientFrame('collaboration.edit', samplePayloads.edit({ client_id: 'eve-1' })));
    host.send(clientFrame('debugging.breakpoint', samplePayloads.breakpoint()));
    assert.equal((await viewer.next('collaboration.edit')).user_id, 'eve');
    assert.equal((await viewer.next('debugging.breakpoint')).user_id, 'hank');
    assert.equal((await editor.next('collaboration.ack')).payload.rev, 1);
    host.send(clientFrame('collaboration.edit', samplePayloads.edit({ client_id: 'hank-1', rev: 1, op: [1, 'y'] })));
    assert.equal((await viewer.next('collaboration.edit', (f) => f.payload.rev === 2)).user_id, 'hank');
    const newcomer = await relay.connect('nina', { role: 'viewer' });
    assert.deepEqual(withoutEpoch(await openDocument(newcomer)), { document: 'src/main.ts', rev: 2, text: 'xy' });
    assert.deepEqual([...editor.of('error'), ...host.of('error')], []);
  });

  it('refuses a frame naming another session with SESSION_FORBIDDEN and relays it nowhere', async () => {
    const elsewhere = await relay.connect('otto', { sessions: ['s2'] });
    editor.send(clientFrame('chat.message', samplePayloads.chat('sneaky'), { session_id: 's2' }));
    const error = await editor.next('error');
    assert.equal(error.payload.code, 'SESSION_FORBIDDEN');
    assert.equal(error.payload.path, 'session_id');
    assert.equal(error.payload.event_type, 'chat.message');

    await marker(editor, host);
    elsewhere.send(clientFrame('chat.message', samplePayloads.chat('s2 marker')));
    await elsewhere.next('chat.message', (f) => f.payload.content === 's2 marker');
    for (const client of [host, viewer, editor, elsewhere]) {
      assert.ok(!client.of('chat.message').some((f) => f.payload.content === 'sneaky'), 'nobody got the refused chat');
    }
  });

  it('accepts a frame that names its own session', async () => {
    for (const client of [host, editor]) await openDocument(client);
    editor.send(clientFrame('collaboration.cursor', samplePayloads.cursor(), { session_id: 's1' }));
    assert.equal((await host.next('collaboration.cursor')).session_id, 's1');
  });

  it('overwrites a spoofed user_id with the token’s subject on every relayed event', async () => {
    const spoof = { user_id: 'hank' };
    for (const client of [host, editor, viewer]) await openDocument(client);
    editor.send(clientFrame('chat.message', samplePayloads.chat('from eve'), spoof));
    editor.send(clientFrame('collaboration.edit', samplePayloads.edit(), spoof));
    editor.send(clientFrame('collaboration.cursor', samplePayloads.cursor(), spoof));
    editor.send(clientFrame('debugging.breakpoint', samplePayloads.breakpoint(), spoof));

    const received = [
      await viewer.next('chat.message'),
      await viewer.next('collaboration.edit'),
      await viewer.next('collaboration.cursor'),
      await viewer.next('debugging.breakpoint'),
    ];
    for (const frame of received) assert.equal(frame.user_id, 'eve', `${frame.event_type} is attributed to the token's user`);
  });
});
