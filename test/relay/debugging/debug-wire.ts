import assert from 'node:assert/strict';
import { type Breakpoint, DebugStateTracker, type ServerFrame, type StoppedPayload } from '../../../protocol';
import { clientFrame, type TestClient } from '../../support/relay-fixture';

/** Helpers of the debugging wire tests (one relay and two relays on one Redis). */

export const bp = (id: string, extra: Partial<Breakpoint> = {}): Breakpoint => ({
  id,
  document: 'src/app.ts',
  line: 3,
  enabled: true,
  ...extra,
});

export const stoppedAt = (line: number, extra: Partial<StoppedPayload> = {}): StoppedPayload => ({
  thread_id: 1,
  reason: 'breakpoint',
  description: 'Paused on breakpoint',
  location: { document: 'src/app.ts', line, column: 0 },
  frames: [
    { name: 'main', document: 'src/app.ts', line, column: 0 },
    { name: 'node:internal/run', line: 7, column: 2 },
  ],
  variables: [{ name: 'i', value: '3', type: 'number' }],
  ...extra,
});

export function sendBreakpoint(client: TestClient, action: 'add' | 'update' | 'remove', breakpoint: Breakpoint): void {
  client.send(clientFrame('debugging.breakpoint', { action, breakpoint }));
}

/** What a client following the protocol makes of every frame it got, in order (DebugStateTracker). */
export function trackerOf(client: TestClient): DebugStateTracker {
  const tracker = new DebugStateTracker();
  for (const frame of client.frames) apply(tracker, frame);
  return tracker;
}

function apply(tracker: DebugStateTracker, frame: ServerFrame): void {
  if (frame.event_type === 'connect') tracker.reset();
  else if (frame.event_type === 'debugging.state') tracker.applyState(frame.payload);
  else if (frame.event_type === 'debugging.breakpoint') tracker.applyBreakpoint(frame.payload);
  else if (frame.event_type === 'debugging.stopped') tracker.applyStopped(frame.payload);
  else if (frame.event_type === 'debugging.continued') tracker.applyContinued(frame.payload);
}

export const byId = (breakpoints: readonly Breakpoint[]) => [...breakpoints].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The highest debug revision the client has seen (state or change). */
export function lastRev(client: TestClient): number {
  let rev = 0;
  for (const frame of client.frames) {
    if (frame.event_type.startsWith('debugging.') && 'rev' in (frame.payload as object))
      rev = Math.max(rev, (frame.payload as { rev: number }).rev);
    const stopped = frame.event_type === 'debugging.state' ? frame.payload.stopped : undefined;
    if (stopped) rev = Math.max(rev, stopped.rev);
  }
  return rev;
}

/** The `debugging.state` a connection gets right after its `connect` (it must be the very next frame, and the only one). */
export async function stateAfterConnect(client: TestClient) {
  const state = await client.next('debugging.state');
  const connect = client.frames.findIndex((f) => f.event_type === 'connect');
  assert.equal(client.frames[connect + 1], state, `the frame after connect is ${client.frames[connect + 1]?.event_type}`);
  assert.equal(client.of('debugging.state').length, 1, 'one state');
  return state.payload;
}

/** Waits until the client has had every change up to `rev` (each one reaches the whole session). */
export function untilRev(client: TestClient, rev: number, what = `debug revision ${rev}`): Promise<void> {
  return client.until(() => lastRev(client) >= rev, what, 10_000);
}

/** A ping and its pong: whatever the relay was to send this client before has arrived. */
export async function settle(client: TestClient, nonce: string): Promise<void> {
  client.send(clientFrame('system.ping', { nonce }));
  await client.next('system.pong', (f) => f.payload.nonce === nonce);
}
