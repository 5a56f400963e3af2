import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypingRun } from '../../../extension/collab/typing-run';
import { apply, transform, type TextOp } from '../../../protocol/ot';

const text = (s: string) => ({ slice: (from: number, to: number) => s.slice(from, to) });

/** Types `op` into `run` against `before`: what goes out, and the text after. */
function typeInto(run: TypingRun, before: string, op: TextOp): { shared: TextOp; after: string } {
  const shared = run.widen(op, text(before));
  run.local(op);
  const after = apply(before, op);
  assert.equal(apply(before, shared), after, 'the widened op has the same effect');
  return { shared, after };
}

describe('the typing run: what a user types in one go stays in one piece', () => {
  it('widens a keystroke that continues the run to the character before it; the first one stays as it is', () => {
    const run = new TypingRun();
    let { shared, after } = typeInto(run, 'x', [1, 'a']);
    assert.deepEqual(shared, [1, 'a']);
    ({ shared, after } = typeInto(run, after, [2, 'b']));
    assert.deepEqual(shared, [1, 'ab', { d: 'a' }]);
    assert.equal(after, 'xab');
    assert.deepEqual(run.current, { start: 1, end: 3 });
  });

  it('a concurrent insert at the typing caret lands after the run, never inside it', () => {
    const run = new TypingRun();
    const { after } = typeInto(run, '', ['a']);
    const { shared } = typeInto(run, after, [1, 'b']);
    // Someone else typed "h" after the "a" they had seen.
    const theirs: TextOp = [1, 'h'];
    const mineFirst = apply(apply(after, shared), transform(theirs, shared, 'right'));
    const theirsFirst = apply(apply(after, theirs), transform(shared, theirs, 'left'));
    assert.equal(mineFirst, 'abh');
    assert.equal(theirsFirst, 'abh');
  });

  it('keeps surrogate pairs whole when widening', () => {
    const run = new TypingRun();
    const { after } = typeInto(run, '', ['😀']);
    const { shared } = typeInto(run, after, [2, '!']);
    assert.deepEqual(shared, ['😀!', { d: '😀' }]);
  });

  it('tells an input method’s step (the run’s tail replaced) from plain typing and Backspace', () => {
    const run = new TypingRun();
    assert.equal(run.isInputMethodStep(['n']), false, 'no run yet');
    typeInto(run, '', ['n']);
    assert.equal(run.isInputMethodStep([1, 'h']), false, 'plain typing only inserts');
    assert.equal(run.isInputMethodStep([{ d: 'n' }]), false, 'Backspace only deletes');
    assert.equal(run.isInputMethodStep(['に', { d: 'n' }]), true, 'marked text updated');
    let { after } = typeInto(run, 'n', ['に', { d: 'n' }]);
    ({ after } = typeInto(run, after, ['にh', { d: 'に' }]));
    assert.equal(run.isInputMethodStep(['日本', { d: 'にh' }]), true, 'committed');
    assert.equal(run.isInputMethodStep([1, 'X', { d: 'h' }]), true, 'the tail only');
    assert.equal(run.isInputMethodStep(['X', { d: 'に' }, 1]), false, 'not at the run’s end');
    assert.equal(after, 'にh');
  });

  it('moves with someone else’s edits before it and ends when they edit inside it', () => {
    const run = new TypingRun();
    const { after } = typeInto(run, 'xy', [1, 'ab', 1]);
    assert.deepEqual(run.current, { start: 1, end: 3 });
    run.moved(['Q', 4]);
    assert.deepEqual(run.current, { start: 2, end: 4 });
    run.moved([4, 'Z', 1]);
    assert.deepEqual(run.current, { start: 2, end: 4 }, 'an insert at its end goes after it');
    run.moved([3, 'I', 3]);
    assert.equal(run.current, undefined);
    assert.equal(after, 'xaby');
  });
});
