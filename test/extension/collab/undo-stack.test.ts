import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { textType as t } from '../../../protocol/ot';
import type { TextOp } from '../../../protocol/ot/text-op';
import { UndoStack } from '../../../extension/collab/undo-stack';

/** A text with local and remote edits and an undo stack, as the binding keeps them. */
class Editor {
  readonly stack: UndoStack;
  constructor(
    public text: string,
    groupMs = 0,
    now?: () => number,
  ) {
    this.stack = new UndoStack({ groupMs, now });
  }
  local(op: TextOp): void {
    this.text = t.apply(this.text, op);
    this.stack.recordLocal(op);
  }
  remote(op: TextOp): void {
    this.text = t.apply(this.text, op);
    this.stack.transform(op);
  }
  undo(): boolean {
    const op = this.stack.takeUndo();
    if (!op) return false;
    this.text = t.apply(this.text, op);
    this.stack.undone(op);
    return true;
  }
  redo(): boolean {
    const op = this.stack.takeRedo();
    if (!op) return false;
    this.text = t.apply(this.text, op);
    this.stack.redone(op);
    return true;
  }
}

describe('UndoStack', () => {
  it("undoes and redoes the user's own edits, leaving remote ones", () => {
    const e = new Editor('one two');
    e.local(t.fromChange(0, '', 'MINE '));
    e.remote(t.fromChange(0, '', '['));
    e.remote(t.fromChange(13, '', ' THEIRS'));
    assert.equal(e.text, '[MINE one two THEIRS');
    assert.ok(e.undo());
    assert.equal(e.text, '[one two THEIRS');
    e.remote(t.fromChange(5, 'two', '2'));
    assert.ok(e.redo());
    assert.equal(e.text, '[MINE one 2 THEIRS');
    assert.ok(e.undo());
    assert.equal(e.text, '[one 2 THEIRS');
    assert.ok(!e.undo());
  });

  it('keeps text a remote user inserted inside what is undone', () => {
    const e = new Editor('ab');
    e.local(t.fromChange(1, '', 'XYZ'));
    e.remote(t.fromChange(2, '', '!'));
    assert.equal(e.text, 'aX!YZb');
    assert.ok(e.undo());
    assert.equal(e.text, 'a!b');
  });

  it('undoes in reverse order, and a new edit clears the redo stack', () => {
    const e = new Editor('');
    e.local(['a']);
    e.local([1, 'b']);
    e.local([2, 'c']);
    assert.ok(e.undo());
    assert.equal(e.text, 'ab');
    e.local([2, 'd']);
    assert.ok(!e.redo());
    assert.ok(e.undo());
    assert.ok(e.undo());
    assert.equal(e.text, 'a');
  });

  it('groups typing (inserts where the last one ended, deletes next to it) made close together', () => {
    let now = 0;
    const e = new Editor('', 1000, () => now);
    e.local(['h']);
    now = 100;
    e.remote(['[']); // moves the caret, does not end the group
    e.local([2, 'i']);
    now = 200;
    e.local([3, 'x']);
    e.local([3, { d: 'x' }]); // Backspace
    now = 5000;
    e.local([3, '!']); // too late
    now = 5100;
    e.local(['<']); // elsewhere
    assert.equal(e.text, '<[hi!');
    assert.ok(e.undo());
    assert.equal(e.text, '[hi!');
    assert.ok(e.undo());
    assert.equal(e.text, '[hi');
    assert.ok(e.undo());
    assert.equal(e.text, '[');
  });
});
