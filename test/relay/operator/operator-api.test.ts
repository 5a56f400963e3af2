import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ClusterSessions, OperatorStatus } from '../../../protocol';
import { mintOperatorToken } from '../../../relay/auth/tokens';
import { DASHBOARD_CSP } from '../../../relay/operator/dashboard-files';
import { ensureRelayBuilt } from '../../support/cli';
import { httpRequest, openTestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { callApi, createApiSession, expectApiError, personalToken, redeemInvite } from '../../support/rest-api';

/**
 * The dashboard's REST calls (`/api/operator/*`) and its page (`/dashboard/`) on a real relay
 * (the bundle, embedded storage): who may call them, what they answer, and a clear error for
 * each bad input.
 */
describe('the operator API and the dashboard page', { timeout: 120_000 }, () => {
  let relay: RelayProcess;
  let operator: string;

  before(async () => {
    ensureRelayBuilt();
    relay = await RelayProcess.start({ METRICS_SAMPLE_INTERVAL_MS: '200' });
    operator = mintOperatorToken(relay.secret, { user: 'ops', ttl: '10m' });
  });
  after(async () => {
    await relay?.stop();
  });

  it('answers the status for an operator: no Redis, the streams with their group', async () => {
    const response = await callApi(relay, 'GET', '/api/operator/status', { token: operator });
    assert.equal(response.status, 200, response.text);
    const status = OperatorStatus.parse(JSON.parse(response.text));
    assert.equal(status.redis.status, 'not_configured');
    assert.equal(status.alerts_source, 'aggregates');
    assert.deepEqual(
      status.streams.map((stream) => stream.stream),
      ['metrics', 'feedback', 'model_performance'],
    );
    assert.equal(status.streams[0]!.groups[0]?.name, 'tandem-processor');
  });

  it('refuses a missing or invalid token (401) and a participant’s token (403 OPERATOR_ONLY) on every call', async () => {
    const participant = relay.token({ user: 'bob' });
    for (const [method, path] of [
      ['GET', '/api/operator/status'],
      ['GET', '/api/operator/sessions'],
      ['GET', '/api/operator/alerts'],
      ['POST', '/api/operator/notices'],
      ['DELETE', '/api/operator/sessions/s1'],
    ] as const) {
      expectApiError(await callApi(relay, method, path, { body: { level: 'info', message: 'x' } }), 401, 'AUTH_TOKEN_MISSING');
      expectApiError(
        await callApi(relay, method, path, { token: 'garbage', body: { level: 'info', message: 'x' } }),
        401,
        'AUTH_TOKEN_INVALID',
      );
      expectApiError(
        await callApi(relay, method, path, { token: participant, body: { level: 'info', message: 'x' } }),
        403,
        'OPERATOR_ONLY',
      );
    }
    expectApiError(await callApi(relay, 'GET', '/api/operator/nothing', { token: operator }), 404, 'NOT_FOUND');
  });

  it('lists the live sessions with participants, their relay and chat count; a notice reaches them; ending one closes it', async () => {
    const created = await createApiSession(relay, { name: 'Review' }, personalToken('alice', 'Alice', relay.secret));
    const guest = await redeemInvite(relay, created.invites.viewer.token, 'Vera');
    const host = await openTestClient(`${relay.url}?token=${created.host.token}`);
    const viewer = await openTestClient(`${relay.url}?token=${guest.token}`);
    host.send({ event_type: 'chat.message', payload: { content: 'hello' } });
    host.send({ event_type: 'collaboration.open', payload: { document: 'src/main.ts', text: 'const a = 1;\n' } });
    let session: ClusterSessions['sessions'][number] | undefined;
    const complete = () => session?.participants.length === 2 && session.chat_messages === 1 && session.documents.length === 1;
    for (let attempt = 0; attempt < 100 && !complete(); attempt++) {
      const response = await callApi(relay, 'GET', '/api/operator/sessions', { token: operator });
      assert.equal(response.status, 200, response.text);
      session = ClusterSessions.parse(JSON.parse(response.text)).sessions.find((s) => s.session_id === created.session_id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(session, 'the session is listed');
    assert.equal(session.name, 'Review');
    assert.deepEqual(session.host, { user_id: 'alice', display_name: 'Alice' });
    assert.deepEqual(session.participants.map((p) => [p.display_name, p.role, p.relay_id]).sort(), [
      ['Alice', 'host', relay.id],
      ['Vera', 'viewer', relay.id],
    ]);
    assert.equal(session.chat_messages, 1);
    assert.deepEqual(session.documents, [{ document_id: 'src/main.ts', rev: 0, length: 13 }]);

    const notice = await callApi(relay, 'POST', '/api/operator/notices', {
      token: operator,
      body: { session_id: created.session_id, level: 'warning', message: 'Maintenance at noon' },
    });
    assert.equal(notice.status, 202, notice.text);
    await viewer.until(() => viewer.of('system.notification').some((f) => f.payload.message === 'Maintenance at noon'), 'the notice');

    const ended = await callApi(relay, 'DELETE', `/api/operator/sessions/${created.session_id}`, { token: operator });
    assert.equal(ended.status, 200, ended.text);
    assert.equal((await host.closed).code, 4010);
    assert.equal((await viewer.closed).code, 4010);
    expectApiError(
      await callApi(relay, 'DELETE', `/api/operator/sessions/${created.session_id}`, { token: operator }),
      410,
      'SESSION_ENDED',
    );
  });

  it('answers bad input with a clear error', async () => {
    const notice = (body: unknown, headers?: Record<string, string>) =>
      callApi(relay, 'POST', '/api/operator/notices', { token: operator, body, ...(headers && { headers }) });
    const badLevel = await notice({ level: 'shout', message: 'x' });
    expectApiError(badLevel, 400, 'VALIDATION_FAILED');
    assert.equal(JSON.parse(badLevel.text).path, 'level');
    expectApiError(await notice({ level: 'info', message: '' }), 400, 'VALIDATION_FAILED');
    expectApiError(await notice({ level: 'info', message: 'x'.repeat(2001) }), 400, 'VALIDATION_FAILED');
    expectApiError(await notice({ level: 'info', message: 'x', extra: 1 }), 400, 'VALIDATION_FAILED');
    expectApiError(await notice('{"level":', {}), 400, 'BAD_JSON');
    expectApiError(await notice('level=info', { 'Content-Type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const end = (id: string) => callApi(relay, 'DELETE', `/api/operator/sessions/${id}`, { token: operator });
    expectApiError(await end('no-such-session'), 404, 'SESSION_NOT_FOUND');
    expectApiError(await end('%E0%A4%A'), 400, 'VALIDATION_FAILED');
    const adHoc = await end('s1');
    expectApiError(adHoc, 404, 'SESSION_NOT_FOUND');
    assert.match(JSON.parse(adHoc.text).message, /ad hoc/);
    const alerts = await callApi(relay, 'GET', '/api/operator/alerts', { token: operator });
    expectApiError(alerts, 404, 'NOT_FOUND');
    assert.match(JSON.parse(alerts.text).message, /PROMETHEUS_URL/);
  });

  it('serves the dashboard page at /dashboard/ with a strict CSP, and nothing but its own files', async () => {
    const page = await httpRequest(`${relay.httpUrl}/dashboard/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers['content-security-policy'], DASHBOARD_CSP);
    assert.match(DASHBOARD_CSP, /script-src 'self'(;|$)/);
    assert.doesNotMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval/);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.text, /<script src="dashboard.js" defer><\/script>/);
    assert.doesNotMatch(page.text, /<script>/, 'no inline script');
    const script = await httpRequest(`${relay.httpUrl}/dashboard/dashboard.js`);
    assert.equal(script.status, 200);
    assert.match(String(script.headers['content-type']), /^text\/javascript/);
    const redirect = await httpRequest(`${relay.httpUrl}/dashboard`);
    assert.equal(redirect.status, 308);
    assert.equal(redirect.headers.location, '/dashboard/');
    for (const path of ['/dashboard/nothing.js', '/dashboard/../relay.js', '/dashboard/%2e%2e/relay.js', '/dashboard/dashboard.js/x']) {
      assert.equal((await httpRequest(`${relay.httpUrl}${path}`)).status, 404, path);
    }
    assert.equal((await httpRequest(`${relay.httpUrl}/dashboard/`, { method: 'POST' })).status, 405);
  });
});
