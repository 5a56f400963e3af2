/**
 * What a guest window keeps so that its session survives VS Code restarting the extensions, which
 * happens when the shared folder is added to a window that is not a multi-root workspace yet (in
 * the browser the whole page reloads). The session (minus its token) goes in `globalState`, which
 * `activate` can read at once; the token goes in SecretStorage. Kept until the session ends, so a
 * window reloaded by hand, or reopened later, rejoins too while the session lives.
 */
import type * as vscode from 'vscode';
import type { SessionInfo } from '../session/session-controller';

const STATE_KEY = 'tandem.guestSessions';
const tokenKey = (sessionId: string) => `tandem.guestToken.${sessionId}`;

export interface KeptSession {
  info: Omit<SessionInfo, 'token'>;
  /** The shared folder's name in the Explorer. */
  folderName: string;
  /** When the token expires (ms since the epoch); the record is pruned after. */
  expiresAt: number;
}

export class GuestResume {
  constructor(private readonly context: Pick<vscode.ExtensionContext, 'globalState' | 'secrets'>) {}

  /** Synchronous: `activate` must register the file system before it returns. */
  kept(sessionId: string): KeptSession | undefined {
    const record = this.all()[sessionId];
    return record && record.expiresAt > Date.now() ? record : undefined;
  }

  async keep(info: SessionInfo, folderName: string): Promise<void> {
    const { token, ...rest } = info;
    const records = this.all();
    for (const [id, record] of Object.entries(records)) if (record.expiresAt <= Date.now()) delete records[id];
    records[info.sessionId] = { info: rest, folderName, expiresAt: tokenExpiry(token) ?? Date.now() + 24 * 3_600_000 };
    await this.context.secrets.store(tokenKey(info.sessionId), token);
    await this.context.globalState.update(STATE_KEY, records);
  }

  /** The kept session with its token, if both are still there. */
  async session(sessionId: string): Promise<SessionInfo | undefined> {
    const record = this.kept(sessionId);
    const token = record && (await this.context.secrets.get(tokenKey(sessionId)));
    return record && token ? { ...record.info, token } : undefined;
  }

  async forget(sessionId: string): Promise<void> {
    const records = this.all();
    delete records[sessionId];
    await this.context.globalState.update(STATE_KEY, records);
    await this.context.secrets.delete(tokenKey(sessionId));
  }

  private all(): Record<string, KeptSession> {
    return { ...this.context.globalState.get<Record<string, KeptSession>>(STATE_KEY, {}) };
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
