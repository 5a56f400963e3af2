import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { openTestClient, refusedUpgrade, startTestRelay, type TestRelay } from '../../support/relay-fixture';
import { type RedisServer, startRedisServer } from '../../support/redis-server';
import { callApi, createApiSession, expectApiError, redeemInvite } from '../../support/rest-api';

/**
 * Issue 11, item 8: after a relay restart on the embedded store, the host and guest tokens of an
 * ended session connected again (the record that said "ended" was gone with the process). A token
 * the sessions API minted now needs its session's live record.
 */

const connectWith = (relay: TestRelay, token: string) => openTestClient(`${relay.url}?token=${token}`);

async function endSession(relay: TestRelay, sessionId: string, hostToken: string): Promise<void> {
  const ended = await callApi(relay, 'DELETE', `/api/sessions/${sessionId}`, { token: hostToken });
  assert.equal(ended.status, 200, ended.text);
}

describe('ended sessions stay ended: embedded store', () => {
  it('refuses the host and guest tokens of an ended session after a restart (the record is gone: SESSION_NOT_FOUND)', async () => {
    const first = await startTestRelay();
    let session;
    let guest;
    let liveSession;
    let liveGuest;
    try {
      session = await createApiSession(first);
      guest = await redeemInvite(first, session.invites.editor.token);
      liveSession = await createApiSession(first);
      liveGuest = await redeemInvite(first, liveSession.invites.viewer.token);
      await endSession(first, session.session_id, session.host.token);
      assert.equal((await refusedUpgrade(`${first.url}?token=${guest.token}`)).status, 410);
    } finally {
      await first.stop();
    }
    // The restart: a new process with the same secret and an empty memory.
    const second = await startTestRelay();
    try {
      for (const token of [session.host.token, guest.token, liveSession.host.token, liveGuest.token]) {
        const refused = await refusedUpgrade(`${second.url}?token=${token}`);
        assert.equal(refused.status, 404);
        assert.equal(refused.body.code, 'SESSION_NOT_FOUND');
      }
      // Nor do the REST calls of those tokens do anything.
      expectApiError(
        await callApi(second, 'POST', '/api/notifications', {
          token: liveSession.host.token,
          body: { session_id: liveSession.session_id, level: 'info', message: 'x' },
        }),
        404,
        'SESSION_NOT_FOUND',
      );
      expectApiError(
        await callApi(second, 'POST', '/api/invites/redeem', { body: { invite: session.invites.editor.token } }),
        404,
        'SESSION_NOT_FOUND',
      );
      // Operator-minted tokens of ad hoc sessions have no record and still connect.
      const adHoc = await connectWith(second, second.token({ user: 'ops-guest', sessions: ['ad-hoc'] }));
      adHoc.close();
    } finally {
      await second.stop();
    }
  });
});

describe('ended sessions stay ended: Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await startRedisServer();
  });
  after(() => redis?.dispose());
  afterEach((t) => redis.printLogIfFailed(t));

  it('keeps an ended session ended and a live one live across a relay restart (the record survives in Redis)', async () => {
    const settings = { REDIS_URL: redis.url };
    const first = await startTestRelay(settings);
    let ended;
    let endedGuest;
    let live;
    let liveGuest;
    try {
      ended = await createApiSession(first);
      endedGuest = await redeemInvite(first, ended.invites.editor.token);
      live = await createApiSession(first);
      liveGuest = await redeemInvite(first, live.invites.editor.token);
      await endSession(first, ended.session_id, ended.host.token);
    } finally {
      await first.stop();
    }
    const second = await startTestRelay(settings);
    try {
      for (const token of [ended.host.token, endedGuest.token]) {
        const refused = await refusedUpgrade(`${second.url}?token=${token}`);
        assert.equal(refused.status, 410);
        assert.equal(refused.body.code, 'SESSION_ENDED');
      }
      for (const token of [live.host.token, liveGuest.token]) (await connectWith(second, token)).close();
    } finally {
      await second.stop();
    }
  });
});
