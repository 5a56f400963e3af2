/**
 * The host's language features, wired to the session: as host, the language service and the
 * diagnostics feed on the shared folder; as guest, the providers for `tandem:` files. Follows the
 * session after `WorkspaceSharing` (created before this, so its listener has run and the shared
 * folder of a new host session exists when this one looks).
 */
import type * as vscode from 'vscode';
import type { RelayClient } from '../../protocol/client';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import type { WorkspaceSharing } from '../workspace/workspace-sharing';
import { DiagnosticsFeed } from './diagnostics-feed';
import { GuestLanguage } from './guest-language';
import { LanguageHost } from './language-host';

interface Part {
  client: RelayClient;
  role: 'host' | 'guest';
  dispose(): void;
}

export class LanguageSharing implements vscode.Disposable {
  private part: Part | undefined;
  private readonly listener: vscode.Disposable;
  /** Guest: the providers of the current session (for tests, and for the commands). */
  guest: GuestLanguage | undefined;

  constructor(
    private readonly session: SessionController,
    private readonly sharing: WorkspaceSharing,
    private readonly log: Log,
  ) {
    this.listener = session.onDidChange(() => this.update());
    this.update();
  }

  private update(): void {
    const { client, info, isActive } = this.session;
    const role = info?.role === 'host' ? 'host' : 'guest';
    if (isActive && client && info && this.part?.client === client && this.part.role === role) return;
    this.part?.dispose();
    this.part = undefined;
    this.guest = undefined;
    if (!isActive || !client || !info) return;
    this.part = role === 'host' ? this.startHost(client) : this.startGuest(client, info.sessionId);
  }

  private startHost(client: RelayClient): Part | undefined {
    const folder = this.sharing.hostSharedFolder;
    if (!folder) return undefined;
    const host = new LanguageHost(folder, client, { onError: (message, error) => this.log.error(message, error) });
    const feed = new DiagnosticsFeed(
      (uri) => host.sharedPathOf(uri),
      (payload) => void client.send('language.diagnostics', payload),
      () => client.connection?.limits.max_frame_bytes ?? 64 * 1024,
    );
    return {
      client,
      role: 'host',
      dispose: () => {
        feed.dispose();
        host.dispose();
      },
    };
  }

  private startGuest(client: RelayClient, sessionId: string): Part {
    const guest = new GuestLanguage(client, sessionId);
    this.guest = guest;
    return { client, role: 'guest', dispose: () => guest.dispose() };
  }

  dispose(): void {
    this.listener.dispose();
    this.part?.dispose();
    this.part = undefined;
  }
}
