import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Epoch } from '../../protocol';
import { newEpoch } from '../../relay/epoch';

it('newEpoch: 16 hex digits, a valid protocol Epoch, a new one each time', () => {
  const epochs = new Set(Array.from({ length: 1000 }, newEpoch));
  assert.equal(epochs.size, 1000);
  for (const epoch of epochs) {
    assert.match(epoch, /^[0-9a-f]{16}$/);
    assert.ok(Epoch.safeParse(epoch).success);
  }
});
