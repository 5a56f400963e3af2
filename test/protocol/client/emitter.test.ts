import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../../../protocol/client/emitter';

type Events = { value: [n: number, label: string]; done: [] };

describe('Emitter', () => {
  it('delivers typed arguments to every listener until disposed', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    const a = emitter.on('value', (n, label) => seen.push(`a${n}${label}`));
    emitter.on('value', (n) => seen.push(`b${n}`));
    emitter.emit('value', 1, 'x');
    a.dispose();
    a.dispose();
    emitter.emit('value', 2, 'y');
    assert.deepEqual(seen, ['a1x', 'b1', 'b2']);
    assert.equal(emitter.has('done'), false);
  });

  it('counts the same function registered twice as two registrations', () => {
    const emitter = new Emitter<Events>();
    let calls = 0;
    const listener = (): void => {
      calls += 1;
    };
    const first = emitter.on('done', listener);
    emitter.on('done', listener);
    emitter.emit('done');
    first.dispose();
    emitter.emit('done');
    assert.equal(calls, 3);
  });

  it('lets changes made during delivery take effect from the next emit', () => {
    const emitter = new Emitter<Events>();
    const seen: string[] = [];
    const self = emitter.on('done', () => {
      seen.push('self');
      self.dispose();
      emitter.on('done', () => seen.push('late'));
    });
    emitter.on('done', () => seen.push('other'));
    emitter.emit('done');
    emitter.emit('done');
    assert.deepEqual(seen, ['self', 'other', 'other', 'late']);
  });

  it('keeps delivering when a listener throws, and reports the error', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<Events>((error) => errors.push(error));
    let reached = false;
    emitter.on('done', () => {
      throw new Error('boom');
    });
    emitter.on('done', () => {
      reached = true;
    });
    emitter.emit('done');
    assert.equal(reached, true);
    assert.equal((errors[0] as Error).message, 'boom');
  });
});
