/**
 * What a guest window keeps so that its session survives VS Code restarting the extensions, which
 * happens when the shared folder is added to a window that is not a multi-root workspace yet (in
 * the browser the whole page reloads). Kept until the session ends, so a window reloaded by hand,
 * or reopened later, rejoins too while the session lives.
 *
 * The whole record, token included, goes in SecretStorage: once its `store` resolves it is saved
 * (in code-server, in the page's localStorage). A copy without the token goes in `globalState`,
 * which `activate` can read at once; but in a browser that state reaches its database some time
 * after `update` resolves, and a page that reloads at once can come back without it (seen in about
 * one run in ten of the debugging e2e on a busy machine). So the copy is only a hint: the secret
 * record decides.
 */
import type * as vscode from 'vscode';
import type { SessionInfo } from '../session/session-controller';

const STATE_KEY = 'tandem.guestSessions';
const recordKey = (sessionId: string) => `tandem.guestSession.${sessionId}`;
/** Where earlier versions kept the token alone: deleted with the session. */
const legacyTokenKey = (sessionId: string) => `tandem.guestToken.${sessionId}`;

export interface KeptSession {
  info: Omit<SessionInfo, 'token'>;
  /** The shared folder's name in the Explorer. */
  folderName: string;
  /** When the token expires (ms since the epoch); the record is pruned after. */
  expiresAt: number;
}

export class GuestResume {
  constructor(private readonly context: Pick<vscode.ExtensionContext, 'globalState' | 'secrets'>) {}

  /**
   * Synchronous, for `activate`, which must register the file system before it returns: the
   * copy in globalState, if it was saved (see the top comment); `session` is the answer.
   */
  kept(sessionId: string): KeptSession | undefined {
    const record = this.all()[sessionId];
    return record && record.expiresAt > Date.now() ? record : undefined;
  }

  async keep(info: SessionInfo, folderName: string): Promise<void> {
    const { token, ...rest } = info;
    const record: KeptSession = { info: rest, folderName, expiresAt: tokenExpiry(token) ?? Date.now() + 24 * 3_600_000 };
    await this.context.secrets.store(recordKey(info.sessionId), JSON.stringify({ ...record, token }));
    const records = this.all();
    for (const [id, kept] of Object.entries(records)) if (kept.expiresAt <= Date.now()) delete records[id];
    records[info.sessionId] = record;
    await this.context.globalState.update(STATE_KEY, records);
  }

  /** The kept session with its token, from the secret storage; undefined if gone or expired. */
  async session(sessionId: string): Promise<SessionInfo | undefined> {
    const kept = parseRecord(await this.context.secrets.get(recordKey(sessionId)));
    return kept && kept.expiresAt > Date.now() ? { ...kept.info, token: kept.token } : undefined;
  }

  async forget(sessionId: string): Promise<void> {
    const records = this.all();
    delete records[sessionId];
    await this.context.globalState.update(STATE_KEY, records);
    await this.context.secrets.delete(recordKey(sessionId));
    await this.context.secrets.delete(legacyTokenKey(sessionId));
  }

  private all(): Record<string, KeptSession> {
    return { ...this.context.globalState.get<Record<string, KeptSession>>(STATE_KEY, {}) };
  }
}

function parseRecord(text: string | undefined): (KeptSession & { token: string }) | undefined {
  if (!text) return undefined;
  try {
    const record = JSON.parse(text) as Partial<KeptSession & { token: unknown }>;
    const info = record.info as Partial<SessionInfo> | undefined;
    const valid =
      typeof record.token === 'string' &&
      typeof record.expiresAt === 'number' &&
      typeof record.folderName === 'string' &&
      typeof info?.sessionId === 'string' &&
      typeof info.role === 'string';
    return valid ? (record as KeptSession & { token: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** The `exp` claim of a JWT, in ms; undefined if it cannot be read. */
export function tokenExpiry(token: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
