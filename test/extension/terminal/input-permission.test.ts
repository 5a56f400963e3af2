import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Participant } from '../../../protocol';
import { mayType } from '../../../extension/terminal/input-permission';

const people: Participant[] = [
  { user_id: 'hana', display_name: 'Hana', role: 'host', connection_id: 'c-host' },
  { user_id: 'bob', display_name: 'Bob', role: 'editor', connection_id: 'c-bob' },
  { user_id: 'carol', display_name: 'Carol', role: 'viewer', connection_id: 'c-carol' },
];
const granted = { shared: true, guestsCanType: true };

describe('whether a guest’s keys reach the host’s shell (decided on the host)', () => {
  it('lets an editor type only where the host granted it', () => {
    assert.equal(mayType(granted, people, { connectionId: 'c-bob', userId: 'bob' }), 'allowed');
    assert.equal(mayType({ shared: true, guestsCanType: false }, people, { connectionId: 'c-bob', userId: 'bob' }), 'not-granted');
    assert.equal(mayType({ shared: false, guestsCanType: true }, people, { connectionId: 'c-bob', userId: 'bob' }), 'not-shared');
    assert.equal(mayType(undefined, people, { connectionId: 'c-bob', userId: 'bob' }), 'not-shared');
  });

  it('never lets a viewer, an unknown connection or a connection of someone else type', () => {
    assert.equal(mayType(granted, people, { connectionId: 'c-carol', userId: 'carol' }), 'not-an-editor');
    assert.equal(mayType(granted, people, { connectionId: 'c-new', userId: 'bob' }), 'unknown-sender');
    assert.equal(mayType(granted, people, { connectionId: 'c-bob', userId: 'carol' }), 'unknown-sender');
    assert.equal(mayType(granted, people, { connectionId: 'c-host', userId: 'hana' }), 'not-an-editor');
    const demoted = people.map((p) => (p.user_id === 'bob' ? { ...p, role: 'viewer' as const } : p));
    assert.equal(mayType(granted, demoted, { connectionId: 'c-bob', userId: 'bob' }), 'not-an-editor');
  });
});
