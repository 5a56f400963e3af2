import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GuestResume, tokenExpiry } from '../../../extension/workspace/guest-resume';
import type { SessionInfo } from '../../../extension/session/session-controller';

/** globalState and SecretStorage as far as GuestResume uses them, in memory. */
function fakeContext() {
  const state = new Map<string, unknown>();
  const secrets = new Map<string, string>();
  return {
    state,
    secrets,
    context: {
      globalState: {
        get: <T>(key: string, fallback: T) => (state.has(key) ? (state.get(key) as T) : fallback),
        update: async (key: string, value: unknown) => void state.set(key, JSON.parse(JSON.stringify(value))),
      },
      secrets: {
        get: async (key: string) => secrets.get(key),
        store: async (key: string, value: string) => void secrets.set(key, value),
        delete: async (key: string) => void secrets.delete(key),
      },
    } as unknown as ConstructorParameters<typeof GuestResume>[0],
  };
}

function jwt(payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part(payload)}.signature`;
}

function session(sessionId: string, expiresInS: number): SessionInfo {
  return {
    sessionId,
    role: 'editor',
    userId: 'guest-1',
    displayName: 'Gus',
    relayUrl: 'http://127.0.0.1:8001',
    wsUrl: 'ws://127.0.0.1:8001/ws',
    token: jwt({ sub: 'guest-1', exp: Math.floor(Date.now() / 1000) + expiresInS }),
  };
}

describe('GuestResume (what survives VS Code restarting the extensions)', () => {
  it('keeps the whole session in SecretStorage and a copy without its token in globalState; gives it back', async () => {
    const { context, state, secrets } = fakeContext();
    const resume = new GuestResume(context);
    const info = session('ses-a', 3600);
    await resume.keep(info, 'project (Tandem)');
    assert.ok(!JSON.stringify([...state.values()]).includes(info.token), 'no token in globalState');
    assert.ok([...secrets.values()][0]?.includes(info.token));
    assert.equal(resume.kept('ses-a')?.folderName, 'project (Tandem)');
    assert.deepEqual(await resume.session('ses-a'), info);
    assert.equal(resume.kept('ses-other'), undefined);
  });

  it('resumes when the page reloaded before globalState was saved: the secret record decides', async () => {
    const { context, state } = fakeContext();
    const info = session('ses-b', 3600);
    await new GuestResume(context).keep(info, 'project (Tandem)');
    state.clear();
    const reloaded = new GuestResume(context);
    assert.equal(reloaded.kept('ses-b'), undefined, 'the quick copy is gone');
    assert.deepEqual(await reloaded.session('ses-b'), info);
  });

  it('gives nothing back from a damaged or foreign secret', async () => {
    const { context, secrets } = fakeContext();
    const resume = new GuestResume(context);
    for (const text of [
      'not json',
      '{}',
      JSON.stringify({ token: 1 }),
      JSON.stringify({ info: {}, token: 't', expiresAt: 1, folderName: 'f' }),
    ]) {
      secrets.set('tandem.guestSession.ses-c', text);
      assert.equal(await resume.session('ses-c'), undefined, text);
    }
  });

  it('forgets a session, and treats an expired one as gone (pruned at the next keep)', async () => {
    const { context, secrets } = fakeContext();
    const resume = new GuestResume(context);
    await resume.keep(session('ses-old', -10), 'old');
    assert.equal(resume.kept('ses-old'), undefined, 'its token has expired');
    assert.equal(await resume.session('ses-old'), undefined);
    await resume.keep(session('ses-new', 3600), 'new');
    await resume.forget('ses-new');
    assert.equal(resume.kept('ses-new'), undefined);
    assert.ok(![...secrets.keys()].some((key) => key.endsWith('ses-new')));
  });

  it('reads a JWT’s expiry, and nothing from what is not one', () => {
    assert.equal(tokenExpiry(jwt({ exp: 2_000_000_000 })), 2_000_000_000_000);
    assert.equal(tokenExpiry('not a token'), undefined);
    assert.equal(tokenExpiry(jwt({ sub: 'x' })), undefined);
  });
});
