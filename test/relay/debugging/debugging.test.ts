import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_STACK_FRAMES } from '../../../protocol';
import { clientFrame, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { bp, byId, lastRev, sendBreakpoint, settle, stateAfterConnect, stoppedAt, trackerOf, untilRev } from './debug-wire';

const settings = { WS_MAX_MESSAGES_PER_SECOND: '100000', WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '1000000' };
let sessionCounter = 0;
const freshSession = () => [`debug-${process.pid}-${++sessionCounter}`];

describe('debugging together (one relay)', () => {
  let relay: TestRelay;
  before(async () => {
    relay = await startTestRelay({ ...settings, DEBUG_MAX_BREAKPOINTS: '3', DEBUG_MAX_STATE_BYTES: '2048' });
  });
  after(() => relay.stop());

  /** A host, an editor and a viewer in a new session. */
  async function trio() {
    const sessions = freshSession();
    const host = await relay.connect('hal', { sessions, role: 'host' });
    const editor = await relay.connect('eve', { sessions, role: 'editor' });
    const viewer = await relay.connect('vic', { sessions, role: 'viewer' });
    return { sessions, host, editor, viewer, all: [host, editor, viewer] };
  }

  it('sends no debugging state to a session that never used it', async () => {
    const { host, viewer } = await trio();
    await settle(viewer, 'quiet');
    await settle(host, 'quiet');
    assert.deepEqual(viewer.of('debugging.state'), []);
    assert.deepEqual(host.of('debugging.state'), []);
  });

  it('add, update and remove reach everyone, the sender too, as applied with one revision each', async () => {
    const { host, editor, all } = await trio();
    sendBreakpoint(host, 'add', bp('a'));
    await untilRev(editor, 1);
    sendBreakpoint(editor, 'update', bp('a', { enabled: false, condition: 'i > 2' }));
    await untilRev(host, 2);
    sendBreakpoint(editor, 'add', bp('b', { document: 'not/shared.ts', line: 40 }));
    await untilRev(host, 3);
    sendBreakpoint(host, 'remove', bp('a'));
    for (const client of all) {
      await untilRev(client, 4);
      assert.deepEqual(
        client.of('debugging.breakpoint').map((f) => [f.user_id, f.payload.action, f.payload.breakpoint.id, f.payload.rev]),
        [
          ['hal', 'add', 'a', 1],
          ['eve', 'update', 'a', 2],
          ['eve', 'add', 'b', 3],
          ['hal', 'remove', 'a', 4],
        ],
      );
      assert.deepEqual(client.of('debugging.breakpoint')[1]!.payload.breakpoint, bp('a', { enabled: false, condition: 'i > 2' }));
      assert.deepEqual(
        client.of('debugging.breakpoint')[3]!.payload.breakpoint,
        bp('a', { enabled: false, condition: 'i > 2' }),
        'removed: as it was',
      );
      assert.deepEqual(trackerOf(client).breakpoints, [bp('b', { document: 'not/shared.ts', line: 40 })]);
    }
    // The same change again, or removing what is gone, changes nothing and sends nothing.
    sendBreakpoint(editor, 'add', bp('b', { document: 'not/shared.ts', line: 40 }));
    sendBreakpoint(editor, 'remove', bp('a'));
    await settle(editor, 'after-noops');
    sendBreakpoint(host, 'update', bp('b', { line: 41 }));
    await untilRev(editor, 5);
    assert.equal(editor.of('debugging.breakpoint').length, 5, 'the no-ops sent nothing');
  });

  it('refuses a viewer’s breakpoint and an editor’s stopped state with FORBIDDEN_ROLE; nothing changes', async () => {
    const { sessions, editor, viewer } = await trio();
    sendBreakpoint(viewer, 'add', bp('v'));
    const refused = await viewer.next('error');
    assert.deepEqual([refused.payload.code, refused.payload.event_type], ['FORBIDDEN_ROLE', 'debugging.breakpoint']);
    editor.send(clientFrame('debugging.stopped', stoppedAt(3)));
    editor.send(clientFrame('debugging.continued', { reason: 'continued' }));
    await editor.until(() => editor.of('error').length === 2, 'two refusals');
    assert.deepEqual(
      editor.of('error').map((f) => [f.payload.code, f.payload.event_type]),
      [
        ['FORBIDDEN_ROLE', 'debugging.stopped'],
        ['FORBIDDEN_ROLE', 'debugging.continued'],
      ],
    );
    const late = await relay.connect('lou', { sessions });
    await settle(late, 'late');
    assert.deepEqual(late.of('debugging.state'), [], 'still no state at all');
    assert.deepEqual(viewer.of('debugging.breakpoint'), []);
  });

  it('refuses malformed frames with VALIDATION_FAILED and the field; nothing changes', async () => {
    const { sessions, host, editor } = await trio();
    sendBreakpoint(host, 'add', bp('a'));
    await untilRev(editor, 1);
    host.send(clientFrame('debugging.breakpoint', { action: 'add', breakpoint: { ...bp('x'), line: -1 } }));
    host.send(clientFrame('debugging.breakpoint', { action: 'toggle', breakpoint: bp('x') } as never));
    host.send(
      clientFrame('debugging.stopped', {
        ...stoppedAt(1),
        frames: Array.from({ length: MAX_STACK_FRAMES + 1 }, () => stoppedAt(1).frames[0]!),
      }),
    );
    host.send(clientFrame('debugging.stopped', { ...stoppedAt(1), reason: 'because' } as never));
    editor.send(clientFrame('debugging.control', { request_id: 'c-1', action: 'restart' } as never));
    await host.until(() => host.of('error').length === 4, 'four refusals');
    assert.deepEqual(
      host.of('error').map((f) => [f.payload.code, f.payload.path]),
      [
        ['VALIDATION_FAILED', 'payload.breakpoint.line'],
        ['VALIDATION_FAILED', 'payload.action'],
        ['VALIDATION_FAILED', 'payload.frames'],
        ['VALIDATION_FAILED', 'payload.reason'],
      ],
    );
    const control = await editor.next('error');
    assert.deepEqual([control.payload.code, control.payload.path], ['VALIDATION_FAILED', 'payload.action']);
    const late = await relay.connect('lou', { sessions });
    assert.deepEqual(await stateAfterConnect(late), { rev: 1, breakpoints: [bp('a')], stopped: null });
    assert.deepEqual(host.of('debugging.control'), []);
  });

  it('enforces DEBUG_MAX_BREAKPOINTS and DEBUG_MAX_STATE_BYTES with clear errors; nothing changes', async () => {
    const { sessions, host, editor } = await trio();
    for (const id of ['a', 'b', 'c']) sendBreakpoint(editor, 'add', bp(id));
    await untilRev(editor, 3);
    sendBreakpoint(editor, 'add', bp('d'));
    const tooMany = await editor.next('error');
    assert.deepEqual(
      [tooMany.payload.code, tooMany.payload.path, tooMany.payload.event_type],
      ['TOO_MANY_BREAKPOINTS', 'payload.breakpoint', 'debugging.breakpoint'],
    );
    const big = stoppedAt(3, { variables: Array.from({ length: 10 }, (_, i) => ({ name: `v${i}`, value: 'x'.repeat(300) })) });
    host.send(clientFrame('debugging.stopped', big));
    const tooLarge = await host.next('error');
    assert.equal(tooLarge.payload.code, 'DEBUG_STATE_TOO_LARGE');
    assert.match(tooLarge.payload.message, /DEBUG_MAX_STATE_BYTES/);
    assert.deepEqual(editor.of('debugging.stopped'), []);
    // Removing one makes room again.
    sendBreakpoint(host, 'remove', bp('a'));
    sendBreakpoint(editor, 'add', bp('d'));
    await untilRev(host, 5);
    const late = await relay.connect('lou', { sessions });
    assert.deepEqual(await stateAfterConnect(late), { rev: 5, breakpoints: [bp('b'), bp('c'), bp('d')], stopped: null });
  });

  it('a late joiner gets the whole set and where the host is stopped, once, right after connect', async () => {
    const { sessions, host, editor, viewer } = await trio();
    sendBreakpoint(host, 'add', bp('a'));
    sendBreakpoint(editor, 'add', bp('b', { line: 9, log_message: 'b hit 👀' }));
    await untilRev(host, 2);
    sendBreakpoint(editor, 'update', bp('a', { enabled: false }));
    await untilRev(host, 3);
    host.send(clientFrame('debugging.stopped', stoppedAt(3)));
    const stopped = await viewer.next('debugging.stopped');
    assert.deepEqual(stopped.payload, { ...stoppedAt(3), rev: 4 });
    assert.equal(stopped.user_id, 'hal');
    assert.deepEqual(host.of('debugging.stopped'), [], 'not back to the host');

    const late = await relay.connect('lou', { sessions, role: 'viewer' });
    const state = await stateAfterConnect(late);
    assert.deepEqual(state, {
      rev: 4,
      breakpoints: [bp('a', { enabled: false }), bp('b', { line: 9, log_message: 'b hit 👀' })],
      stopped: { ...stoppedAt(3), rev: 4 },
    });
    await settle(late, 'late');
    assert.deepEqual(late.of('debugging.breakpoint'), [], 'the set came whole, no change twice');
    assert.deepEqual(late.of('debugging.stopped'), []);
    for (const client of [host, editor, viewer, late]) assert.deepEqual(byId(trackerOf(client).breakpoints), state.breakpoints);
  });

  it('a client that resumes gets the state instead of the changes it missed: nothing twice, nothing stale', async () => {
    const { sessions, host } = await trio();
    let bob = await relay.connect('bob', { sessions });
    sendBreakpoint(host, 'add', bp('a'));
    sendBreakpoint(host, 'add', bp('b'));
    host.send(clientFrame('chat.message', { content: 'seen' }));
    await bob.next('chat.message');
    const log = bob.of('connect')[0]!.payload.session_log!;
    const offset = Math.max(log.offset, ...bob.frames.map((f) => (f as { offset?: number }).offset ?? 0));
    bob.close();
    await bob.closed;
    sendBreakpoint(host, 'remove', bp('a'));
    sendBreakpoint(host, 'add', bp('c'));
    host.send(clientFrame('debugging.stopped', stoppedAt(5)));
    host.send(clientFrame('chat.message', { content: 'missed' }));
    await host.next('chat.message', (f) => f.payload.content === 'missed');

    bob = await relay.connect('bob', { sessions, query: `&since_offset=${offset}&since_epoch=${log.epoch}` });
    assert.equal(bob.of('connect')[0]!.payload.session_log?.recovered, true);
    assert.deepEqual(await stateAfterConnect(bob), { rev: 5, breakpoints: [bp('b'), bp('c')], stopped: { ...stoppedAt(5), rev: 5 } });
    await bob.next('chat.message', (f) => f.payload.content === 'missed');
    assert.deepEqual(bob.of('debugging.breakpoint'), []);
    assert.deepEqual(trackerOf(bob).breakpoints, [bp('b'), bp('c')]);
  });

  it('concurrent toggles of one breakpoint converge: every client ends with the set a late joiner gets', async () => {
    const { sessions, host, editor, viewer } = await trio();
    const second = await relay.connect('eve', { sessions, role: 'editor' });
    sendBreakpoint(host, 'add', bp('x'));
    await untilRev(second, 1);
    for (let n = 0; n < 25; n++) {
      sendBreakpoint(host, 'update', bp('x', { enabled: n % 2 === 0 }));
      sendBreakpoint(editor, 'update', bp('x', { enabled: n % 2 === 1 }));
      sendBreakpoint(second, n % 7 === 6 ? 'remove' : 'add', bp('x', { enabled: n % 3 === 0, line: n }));
    }
    for (const client of [host, editor, second]) await settle(client, 'sent');
    const late = await relay.connect('lou', { sessions });
    const state = await stateAfterConnect(late);
    for (const client of [host, editor, second, viewer]) {
      await untilRev(client, state.rev);
      assert.deepEqual(trackerOf(client).breakpoints, state.breakpoints, 'the same set as the relay keeps');
      assert.equal(lastRev(client), state.rev);
    }
  });

  it('routes control to the host’s connection only and the answer to the requester only', async () => {
    const { sessions, host, editor, viewer } = await trio();
    const other = await relay.connect('oz', { sessions, role: 'editor' });
    editor.send(clientFrame('debugging.control', { request_id: 'c-1', action: 'step_over', thread_id: 1 }));
    const control = await host.next('debugging.control');
    const editorId = editor.of('connect')[0]!.payload.connection_id;
    assert.deepEqual(control.payload, { request_id: 'c-1', action: 'step_over', thread_id: 1, requester: editorId });
    assert.equal(control.user_id, 'eve');
    host.send(
      clientFrame('debugging.control_result', { request_id: 'c-1', requester: editorId, ok: false, message: 'guest control is off' }),
    );
    const result = await editor.next('debugging.control_result');
    assert.deepEqual(result.payload, { request_id: 'c-1', requester: editorId, ok: false, message: 'guest control is off' });
    // Viewers watch; the host drives its own debugger; an editor cannot answer for the host.
    viewer.send(clientFrame('debugging.control', { request_id: 'c-2', action: 'continue' }));
    host.send(clientFrame('debugging.control', { request_id: 'c-3', action: 'continue' }));
    editor.send(clientFrame('debugging.control_result', { request_id: 'c-1', requester: editorId, ok: true }));
    assert.equal((await viewer.next('error')).payload.code, 'FORBIDDEN_ROLE');
    assert.equal((await host.next('error')).payload.code, 'FORBIDDEN_ROLE');
    assert.equal((await editor.next('error')).payload.code, 'FORBIDDEN_ROLE');
    for (const client of [host, editor, viewer, other]) await settle(client, 'routed');
    assert.equal(host.of('debugging.control').length, 1);
    for (const client of [editor, viewer, other]) assert.deepEqual(client.of('debugging.control'), []);
    for (const client of [host, viewer, other]) assert.deepEqual(client.of('debugging.control_result'), []);
    // No host: the requester is told, with its request id.
    host.close();
    await host.closed;
    await editor.next('session.left', (f) => f.payload.role === 'host');
    editor.send(clientFrame('debugging.control', { request_id: 'c-4', action: 'pause' }));
    const noHost = await editor.next('error', (f) => f.payload.code === 'HOST_NOT_CONNECTED');
    assert.equal(noHost.payload.request_id, 'c-4');
  });

  it('clears the stopped state on continue, and when the host’s last connection leaves', async () => {
    const { sessions, host, editor, viewer } = await trio();
    const hostWindow = await relay.connect('hal', { sessions, role: 'host' });
    host.send(clientFrame('debugging.stopped', stoppedAt(3)));
    await untilRev(viewer, 1);
    host.send(clientFrame('debugging.continued', { reason: 'continued', thread_id: 1 }));
    const continued = await viewer.next('debugging.continued');
    assert.deepEqual(continued.payload, { reason: 'continued', thread_id: 1, rev: 2 });
    assert.equal(trackerOf(viewer).stopped, null);
    // Continuing again changes nothing and sends nothing.
    host.send(clientFrame('debugging.continued', { reason: 'ended' }));
    await settle(host, 'ended');
    assert.deepEqual(await stateAfterConnect(await relay.connect('lou', { sessions })), { rev: 2, breakpoints: [], stopped: null });

    host.send(clientFrame('debugging.stopped', stoppedAt(7, { reason: 'exception', description: 'TypeError' })));
    await untilRev(editor, 3);
    assert.deepEqual(trackerOf(editor).stopped, { ...stoppedAt(7, { reason: 'exception', description: 'TypeError' }), rev: 3 });
    // One of the host's two connections leaves: it is still there, still stopped.
    hostWindow.close();
    await editor.next('session.left', (f) => f.payload.role === 'host');
    host.close();
    const left = await editor.next('debugging.continued', (f) => f.payload.reason === 'host_left');
    assert.equal(left.payload.rev, 4);
    assert.deepEqual(
      editor.of('debugging.continued').map((f) => f.payload.reason),
      ['continued', 'host_left'],
      'once, for the last one',
    );
    assert.equal(trackerOf(editor).stopped, null);
    assert.deepEqual(await stateAfterConnect(await relay.connect('liz', { sessions })), { rev: 4, breakpoints: [], stopped: null });
  });
});
