import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { type Breakpoint, ProtocolError, type StoppedPayload } from '../../../protocol';
import type { BreakpointLimits, DebugStateStore } from '../../../relay/debugging/debug-state-store';
import { breakpointJson, utf8Bytes } from '../../../relay/debugging/debug-state-store';
import { waitUntil } from '../../support/wait';

let sessionCounter = 0;
const freshSession = () => `debug-${process.pid}-${++sessionCounter}`;

export const breakpoint = (id: string, extra: Partial<Breakpoint> = {}): Breakpoint => ({
  id,
  document: 'src/app.ts',
  line: 3,
  enabled: true,
  ...extra,
});

export const stoppedAt = (line: number): StoppedPayload => ({
  thread_id: 1,
  reason: 'breakpoint',
  location: { document: 'src/app.ts', line, column: 0 },
  frames: [{ name: 'main', document: 'src/app.ts', line, column: 0 }],
  variables: [{ name: 'i', value: '3', type: 'number' }],
});

export interface StoreOptions extends BreakpointLimits {
  idleTimeoutMs: number;
  /** Unique per test: stores with one prefix on one Redis share their state (two relays). */
  prefix: string;
}

const defaults = { maxBreakpoints: 100, maxBreakpointBytes: 64 * 1024, idleTimeoutMs: 60_000 };
let prefixCounter = 0;

const refusedWith = (code: string) => (error: unknown) => error instanceof ProtocolError && error.code === code;

/**
 * The behaviour every DebugStateStore must have, run against each implementation. `create` makes a
 * store with the options given. `shared`: two stores made in one test share their state (two
 * relays on one Redis); otherwise the test of two relays uses one store for both.
 */
export function debugStateStoreContract(
  name: string,
  create: (options: StoreOptions) => Promise<DebugStateStore>,
  { shared }: { shared: boolean },
): void {
  describe(`DebugStateStore contract: ${name}`, () => {
    const stores: DebugStateStore[] = [];
    let prefix = '';
    beforeEach(() => {
      prefix = `tandem-test-${process.pid}-${++prefixCounter}:`;
    });
    const make = async (options: Partial<StoreOptions> = {}) => {
      const store = await create({ ...defaults, prefix, ...options });
      stores.push(store);
      return store;
    };
    after(async () => {
      for (const store of stores) await store.close();
    });

    it('starts empty at revision 0', async () => {
      const store = await make();
      assert.deepEqual(await store.read(freshSession()), { rev: 0, breakpoints: [], stopped: null });
    });

    it('adds, updates and removes, one revision per change, each answered with the breakpoint as it now is', async () => {
      const store = await make();
      const session = freshSession();
      assert.deepEqual(await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('b') }), {
        action: 'add',
        breakpoint: breakpoint('b'),
        rev: 1,
      });
      await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('a', { line: 9, condition: 'x > 1 ✓' }) });
      const updated = breakpoint('b', { enabled: false, log_message: 'hit {i}' });
      assert.deepEqual(await store.applyBreakpoint(session, { action: 'update', breakpoint: updated }), {
        action: 'update',
        breakpoint: updated,
        rev: 3,
      });
      assert.deepEqual(await store.read(session), {
        rev: 3,
        breakpoints: [breakpoint('a', { line: 9, condition: 'x > 1 ✓' }), updated],
        stopped: null,
      });
      // A remove names the breakpoint by id; the answer is the breakpoint as it was.
      assert.deepEqual(await store.applyBreakpoint(session, { action: 'remove', breakpoint: breakpoint('b') }), {
        action: 'remove',
        breakpoint: updated,
        rev: 4,
      });
      assert.deepEqual(await store.read(session), {
        rev: 4,
        breakpoints: [breakpoint('a', { line: 9, condition: 'x > 1 ✓' })],
        stopped: null,
      });
    });

    it('is idempotent: the same change again, an update or remove of a missing breakpoint, change nothing', async () => {
      const store = await make();
      const session = freshSession();
      await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('a') });
      assert.equal(await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('a') }), undefined);
      assert.equal(await store.applyBreakpoint(session, { action: 'update', breakpoint: breakpoint('a') }), undefined);
      assert.equal(await store.applyBreakpoint(session, { action: 'update', breakpoint: breakpoint('gone') }), undefined);
      assert.equal(await store.applyBreakpoint(session, { action: 'remove', breakpoint: breakpoint('gone') }), undefined);
      // Key order does not make another breakpoint.
      const reordered = { enabled: true, line: 3, document: 'src/app.ts', id: 'a' } as Breakpoint;
      assert.equal(await store.applyBreakpoint(session, { action: 'add', breakpoint: reordered }), undefined);
      assert.deepEqual(await store.read(session), { rev: 1, breakpoints: [breakpoint('a')], stopped: null });
      // An add of an existing id replaces it; an update of a removed one leaves it removed.
      assert.equal((await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('a', { line: 4 }) }))?.rev, 2);
      await store.applyBreakpoint(session, { action: 'remove', breakpoint: breakpoint('a') });
      assert.equal(await store.applyBreakpoint(session, { action: 'update', breakpoint: breakpoint('a', { line: 5 }) }), undefined);
      assert.deepEqual(await store.read(session), { rev: 3, breakpoints: [], stopped: null });
    });

    it('refuses a breakpoint past DEBUG_MAX_BREAKPOINTS and past DEBUG_MAX_BREAKPOINT_BYTES, changing nothing', async () => {
      const one = utf8Bytes(breakpointJson(breakpoint('b0')));
      const store = await make({ maxBreakpoints: 3, maxBreakpointBytes: 3 * one + 30 });
      const session = freshSession();
      for (let i = 0; i < 3; i++) await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint(`b${i}`) });
      await assert.rejects(
        store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('b3') }),
        refusedWith('TOO_MANY_BREAKPOINTS'),
      );
      // Replacing one is no new breakpoint, but it may not grow past the bytes.
      await assert.rejects(
        store.applyBreakpoint(session, { action: 'update', breakpoint: breakpoint('b1', { condition: 'ü'.repeat(20) }) }),
        refusedWith('BREAKPOINTS_TOO_LARGE'),
      );
      assert.equal((await store.applyBreakpoint(session, { action: 'update', breakpoint: breakpoint('b1', { condition: 'ok' }) }))?.rev, 4);
      const before = await store.read(session);
      assert.equal(before.breakpoints.length, 3);
      // Removing one makes room again.
      await store.applyBreakpoint(session, { action: 'remove', breakpoint: breakpoint('b0') });
      assert.equal((await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('b3') }))?.rev, 6);
    });

    it('counts bytes as UTF-8, the same in every store', async () => {
      const big = breakpoint('u', { condition: '👋'.repeat(100) });
      const bytes = utf8Bytes(breakpointJson(big));
      const exact = await make({ maxBreakpointBytes: bytes });
      assert.equal((await exact.applyBreakpoint(freshSession(), { action: 'add', breakpoint: big }))?.rev, 1);
      const short = await make({ maxBreakpointBytes: bytes - 1 });
      await assert.rejects(short.applyBreakpoint(freshSession(), { action: 'add', breakpoint: big }), refusedWith('BREAKPOINTS_TOO_LARGE'));
    });

    it('keeps the stopped state with its revision, replaced by the next, cleared once', async () => {
      const store = await make();
      const session = freshSession();
      await store.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('a') });
      assert.deepEqual(await store.setStopped(session, stoppedAt(3)), { ...stoppedAt(3), rev: 2 });
      assert.deepEqual(await store.setStopped(session, stoppedAt(4)), { ...stoppedAt(4), rev: 3 });
      assert.deepEqual(await store.read(session), { rev: 3, breakpoints: [breakpoint('a')], stopped: { ...stoppedAt(4), rev: 3 } });
      assert.equal(await store.clearStopped(session), 4);
      assert.equal(await store.clearStopped(session), undefined, 'nothing to clear: no revision');
      assert.deepEqual(await store.read(session), { rev: 4, breakpoints: [breakpoint('a')], stopped: null });
    });

    it('keeps each session apart, and delete removes one session’s state only', async () => {
      const store = await make();
      const [s1, s2] = [freshSession(), freshSession()];
      await store.applyBreakpoint(s1, { action: 'add', breakpoint: breakpoint('a') });
      await store.setStopped(s1, stoppedAt(3));
      await store.applyBreakpoint(s2, { action: 'add', breakpoint: breakpoint('a', { line: 7 }) });
      assert.deepEqual((await store.read(s2)).breakpoints, [breakpoint('a', { line: 7 })]);
      await store.delete(s1);
      assert.deepEqual(await store.read(s1), { rev: 0, breakpoints: [], stopped: null });
      assert.deepEqual(await store.read(s2), { rev: 1, breakpoints: [breakpoint('a', { line: 7 })], stopped: null });
    });

    it('puts concurrent changes of one breakpoint from two relays in one order', async () => {
      const a = await make();
      const b = shared ? await make() : a;
      const session = freshSession();
      await a.applyBreakpoint(session, { action: 'add', breakpoint: breakpoint('x') });
      const changes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).applyBreakpoint(session, {
            action: i % 5 === 4 ? 'remove' : 'add',
            breakpoint: breakpoint('x', { enabled: i % 3 === 0, line: i }),
          }),
        ),
      );
      const applied = changes.filter((c) => c !== undefined);
      const revs = applied.map((c) => c.rev).sort((p, q) => p - q);
      assert.deepEqual(
        revs,
        Array.from({ length: revs.length }, (_, i) => i + 2),
        'every applied change has its own revision, none skipped',
      );
      // The state is what the change with the highest revision left.
      const last = applied.find((c) => c.rev === revs.at(-1))!;
      const state = await b.read(session);
      assert.equal(state.rev, last.rev);
      assert.deepEqual(state.breakpoints, last.action === 'remove' ? [] : [last.breakpoint]);
      assert.deepEqual(await a.read(session), state);
    });

    it('drops a session’s state after the idle timeout without a change or a touch; a touch keeps it', async () => {
      const store = await make({ idleTimeoutMs: 1000 });
      const [kept, dropped] = [freshSession(), freshSession()];
      await store.applyBreakpoint(kept, { action: 'add', breakpoint: breakpoint('a') });
      await store.applyBreakpoint(dropped, { action: 'add', breakpoint: breakpoint('a') });
      await store.setStopped(dropped, stoppedAt(1));
      const touching = setInterval(() => void store.touch(kept), 200);
      try {
        await waitUntil(async () => (await store.read(dropped)).rev === 0, 'the idle state to be dropped', 10_000, 50);
        assert.deepEqual((await store.read(kept)).breakpoints, [breakpoint('a')]);
      } finally {
        clearInterval(touching);
      }
    });
  });
}
