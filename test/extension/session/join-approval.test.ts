import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isPending, waitForApproval } from '../../../extension/session/join-approval';
import { type PendingJoin, RelayApiError, relayApi } from '../../../extension/session/relay-api';
import { startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { callApi, type CreatedSession, createApiSession } from '../../support/rest-api';

/** The guest's wait for the host's approval, against a real relay (the host's answers over REST). */
describe('waiting for the host to admit a guest', () => {
  let relay: TestRelay;
  let session: CreatedSession;
  before(async () => {
    relay = await startTestRelay();
    session = await createApiSession(relay, { invites: { approval: true } });
  });
  after(() => relay.stop());

  async function ask(name: string): Promise<PendingJoin> {
    const answer = await relayApi.redeemInvite(relay.httpUrl, session.invites.editor.token, name);
    assert.ok(isPending(answer), 'an approval invite answers with a pending request');
    return answer;
  }

  const decide = (pending: PendingJoin, approve: boolean) =>
    callApi(relay, 'POST', `/api/sessions/${session.session_id}/join-requests/${pending.request_id}`, {
      token: session.host.token,
      body: { approve },
    });

  it('resolves with the session token once the host admits the guest', async () => {
    const pending = await ask('Bob');
    const waiting = waitForApproval(relay.httpUrl, pending, new AbortController().signal, 20);
    assert.equal((await decide(pending, true)).status, 200);
    const admitted = await waiting;
    assert.equal(admitted?.user_id, pending.user_id);
    assert.equal(admitted?.role, 'editor');
    assert.ok(admitted?.token);
  });

  it('rejects with JOIN_DENIED when the host turns the guest away', async () => {
    const pending = await ask('Eve');
    const waiting = waitForApproval(relay.httpUrl, pending, new AbortController().signal, 20);
    assert.equal((await decide(pending, false)).status, 200);
    await assert.rejects(waiting, (error: unknown) => error instanceof RelayApiError && error.code === 'JOIN_DENIED');
  });

  it('gives up, with nothing, when the guest cancels', async () => {
    const pending = await ask('Impatient');
    const abort = new AbortController();
    const waiting = waitForApproval(relay.httpUrl, pending, abort.signal, 20);
    abort.abort();
    assert.equal(await waiting, undefined);
  });
});
