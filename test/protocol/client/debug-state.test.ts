import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Breakpoint, DebugStateTracker, type StoppedState } from '../../../protocol';

const bp = (id: string, extra: Partial<Breakpoint> = {}): Breakpoint => ({ id, document: 'src/a.ts', line: 1, enabled: true, ...extra });
const stopped = (rev: number, line = 1): StoppedState => ({
  thread_id: 1,
  reason: 'step',
  location: { document: 'src/a.ts', line, column: 0 },
  frames: [],
  variables: [],
  rev,
});

describe('DebugStateTracker', () => {
  it('applies changes in revision order whatever order they arrive in', () => {
    const inOrder = new DebugStateTracker();
    const reordered = new DebugStateTracker();
    const changes = [
      { action: 'add', breakpoint: bp('x'), rev: 1 },
      { action: 'update', breakpoint: bp('x', { enabled: false }), rev: 2 },
      { action: 'remove', breakpoint: bp('x', { enabled: false }), rev: 3 },
      { action: 'add', breakpoint: bp('y'), rev: 4 },
      { action: 'update', breakpoint: bp('y', { line: 9 }), rev: 5 },
    ] as const;
    for (const change of changes) inOrder.applyBreakpoint(change);
    for (const i of [1, 0, 4, 2, 3]) reordered.applyBreakpoint(changes[i]!);
    assert.deepEqual(inOrder.breakpoints, [bp('y', { line: 9 })]);
    assert.deepEqual(reordered.breakpoints, inOrder.breakpoints, 'a stale add after its remove stays stale');
    assert.equal(reordered.applyBreakpoint(changes[4]), false, 'the same change twice is applied once');
  });

  it('takes the state whole and ignores what it already covers', () => {
    const tracker = new DebugStateTracker();
    tracker.applyBreakpoint({ action: 'add', breakpoint: bp('old'), rev: 1 });
    tracker.applyState({ rev: 6, breakpoints: [bp('a')], stopped: stopped(5) });
    assert.deepEqual(tracker.breakpoints, [bp('a')]);
    assert.equal(tracker.applyBreakpoint({ action: 'add', breakpoint: bp('b'), rev: 6 }), false, 'in the state already');
    assert.equal(tracker.applyContinued({ reason: 'continued', rev: 4 }), false);
    assert.deepEqual(tracker.stopped, stopped(5));
    assert.equal(tracker.applyBreakpoint({ action: 'add', breakpoint: bp('b'), rev: 7 }), true);
    assert.deepEqual(tracker.breakpoints, [bp('a'), bp('b')]);
    tracker.reset();
    assert.deepEqual([tracker.breakpoints, tracker.stopped], [[], null]);
  });

  it('keeps the newest stopped state; a stale continue does not clear a newer stop', () => {
    const tracker = new DebugStateTracker();
    assert.equal(tracker.applyStopped(stopped(3, 7)), true);
    assert.equal(tracker.applyStopped(stopped(2, 4)), false);
    assert.equal(tracker.applyContinued({ reason: 'continued', rev: 1 }), false);
    assert.deepEqual(tracker.stopped, stopped(3, 7));
    assert.equal(tracker.applyContinued({ reason: 'host_left', rev: 4 }), true);
    assert.equal(tracker.applyStopped(stopped(3, 7)), false);
    assert.equal(tracker.stopped, null);
  });
});
