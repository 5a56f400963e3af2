/**
 * The guest's language requests against a real relay, with a host made of a plain RelayClient:
 * answers reach the asker, a cancel reaches the host, a host that never answers times out, and a
 * missing host is a failure with a reason, never a hang.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createNodeWsTransport, type LanguageRequestOut, RelayClient, type Role } from '../../../protocol';
import { type Cancellation, LanguageClient } from '../../../extension/language/language-client';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { waitUntil } from '../../support/wait';

const transport = createNodeWsTransport(WebSocket);
const position = { line: 0, character: 3 };

async function connect(relay: TestRelay, user: string, role: Role): Promise<RelayClient> {
  const client = new RelayClient({ url: relay.url, token: relay.token({ user, role }), transport, reconnect: false });
  client.connect();
  await waitUntil(() => client.state === 'open', `${user} to connect`, 5000);
  return client;
}

/** A token whose cancellation the test fires. */
function cancellation(): Cancellation & { cancel(): void } {
  const listeners: Array<() => void> = [];
  const token = {
    isCancellationRequested: false,
    onCancellationRequested: (listener: () => void) => {
      listeners.push(listener);
      return { dispose: () => listeners.splice(listeners.indexOf(listener), 1) };
    },
    cancel: () => {
      token.isCancellationRequested = true;
      for (const listener of [...listeners]) listener();
    },
  };
  return token;
}

describe('LanguageClient (the guest’s language requests)', () => {
  let relay: TestRelay;
  const clients: RelayClient[] = [];
  beforeEach(async () => {
    relay = await startTestRelay();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.dispose();
    await relay.stop();
  });

  it('gets the host’s answer; a cancelled question tells the host and ends at once', async () => {
    const host = await connect(relay, 'hana', 'host');
    const guest = await connect(relay, 'bob', 'viewer');
    clients.push(host, guest);
    const seen: LanguageRequestOut[] = [];
    host.on('language.request', (request) => {
      seen.push(request);
      if (request.op === 'hover' && request.position.line === 0) {
        host.send('language.response', {
          request_id: request.request_id,
          requester: request.requester,
          ok: true,
          result: { kind: 'hover', contents: ['`x`'] },
        });
      }
    });
    const language = new LanguageClient(guest);
    assert.deepEqual(await language.result({ op: 'hover', path: 'a.ts', position }, 'hover'), { kind: 'hover', contents: ['`x`'] });

    const token = cancellation();
    const asked = language.ask({ op: 'hover', path: 'a.ts', position: { line: 9, character: 0 } }, token);
    await waitUntil(() => seen.length === 2, 'the second question at the host', 5000);
    token.cancel();
    assert.deepEqual(await asked, { code: 'Cancelled', message: 'cancelled' });
    await waitUntil(() => seen.length === 3, 'the cancel at the host', 5000);
    assert.deepEqual([seen[2]!.op, seen[2]!.request_id], ['cancel', seen[1]!.request_id]);
    language.dispose();
  });

  it('gives up on a host that does not answer (and tells it), and says why when there is no host', async () => {
    const guest = await connect(relay, 'bob', 'editor');
    clients.push(guest);
    const lonely = new LanguageClient(guest);
    const none = await lonely.ask({ op: 'documentSymbols', path: 'a.ts' });
    assert.equal('code' in none && none.code, 'Unavailable');
    assert.match((none as { message: string }).message, /HOST_NOT_CONNECTED/);
    lonely.dispose();

    const host = await connect(relay, 'hana', 'host');
    clients.push(host);
    const seen: LanguageRequestOut[] = [];
    host.on('language.request', (request) => seen.push(request));
    const slow = new LanguageClient(guest, 200);
    assert.equal(((await slow.ask({ op: 'references', path: 'a.ts', position })) as { code: string }).code, 'Timeout');
    await waitUntil(() => seen.some((r) => r.op === 'cancel'), 'the host to be told', 5000);
    slow.dispose();
  });
});
