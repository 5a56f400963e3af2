/**
 * Shared servers, wired to the session: as host, a TunnelHost (Share Server, Stop Sharing
 * Server); as guest, a TunnelGuest with a notification for each server the host shares (Open in
 * Browser). Leaving, ending or losing the session disposes them: listeners and streams close.
 */
import * as vscode from 'vscode';
import type { RelayClient, SharedServer } from '../../protocol';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import { type GuestServer, TunnelGuest } from './tunnel-guest';
import { TunnelHost } from './tunnel-host';

/** One shared server as this window sees it. */
export interface SharedServerEntry {
  server: SharedServer;
  /** Where to open it on this machine: the host's own port, or the guest's listener. */
  localPort: number | undefined;
  /** Its open streams. */
  streams: number;
  error?: string;
}

export class TunnelSharing implements vscode.Disposable {
  private client: RelayClient | undefined;
  private role: 'host' | 'guest' | undefined;
  /** Host: the servers this window shares. */
  host: TunnelHost | undefined;
  /** Guest: the host's servers on this machine. */
  guest: TunnelGuest | undefined;
  private partSubscriptions: Array<{ dispose(): void }> = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly listener: vscode.Disposable;

  constructor(
    private readonly session: SessionController,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {
    this.listener = session.onDidChange(() => this.update());
    this.update();
  }

  get entries(): SharedServerEntry[] {
    if (this.host) {
      const counts = this.host.streamCounts();
      return this.host.servers.map((server) => ({ server, localPort: server.port, streams: counts.get(server.share_id) ?? 0 }));
    }
    return (this.guest?.servers ?? []).map((entry: GuestServer) => ({ ...entry }));
  }

  get isHost(): boolean {
    return this.role === 'host';
  }

  /** `http://127.0.0.1:<port>` of a shared server on this machine, as VS Code can open it (asExternalUri: remote windows too). */
  async externalUri(entry: SharedServerEntry): Promise<vscode.Uri | undefined> {
    if (entry.localPort === undefined) return undefined;
    return vscode.env.asExternalUri(vscode.Uri.parse(`http://127.0.0.1:${entry.localPort}/`));
  }

  async openInBrowser(entry: SharedServerEntry): Promise<vscode.Uri | undefined> {
    const uri = await this.externalUri(entry);
    if (!uri) {
      this.notifier.show(
        'warning',
        `Tandem: '${entry.server.name}' is not available on this machine${entry.error ? `: ${entry.error}` : ''}.`,
      );
      return undefined;
    }
    await vscode.env.openExternal(uri);
    return uri;
  }

  private update(): void {
    const { client, info, isActive } = this.session;
    const role = info?.role === 'host' ? 'host' : 'guest';
    if (isActive && client && info && this.client === client && this.role === role) return;
    this.stop();
    if (!isActive || !client || !info) return;
    this.client = client;
    this.role = role;
    const log = (message: string) => this.log.info(`Shared servers: ${message}`);
    if (role === 'host') {
      this.host = new TunnelHost(client, { log });
      this.partSubscriptions.push(
        this.host,
        this.host.onDidChange(() => this.changed.fire()),
      );
    } else {
      const guest = new TunnelGuest(client, { log });
      this.guest = guest;
      this.partSubscriptions.push(
        guest,
        guest.onDidChange(() => this.changed.fire()),
        guest.onDidShare((added) => this.announce(guest, added)),
      );
    }
    this.changed.fire();
  }

  private announce(guest: TunnelGuest, added: SharedServer[]): void {
    for (const server of added) {
      const entry = guest.servers.find((s) => s.server.share_id === server.share_id);
      if (!entry) continue;
      const where = entry.localPort === undefined ? 'could not listen here' : `here on 127.0.0.1:${entry.localPort}`;
      this.notifier.show('info', `Tandem: the host shared server '${server.name}' (${server.port}), ${where}.`, {
        title: 'Open in Browser',
        run: () => void this.openInBrowser({ ...entry }),
      });
    }
  }

  private stop(): void {
    for (const subscription of this.partSubscriptions.splice(0).reverse()) subscription.dispose();
    const had = this.host !== undefined || this.guest !== undefined;
    this.host = undefined;
    this.guest = undefined;
    this.client = undefined;
    this.role = undefined;
    if (had) this.changed.fire();
  }

  dispose(): void {
    this.listener.dispose();
    this.stop();
    this.changed.dispose();
  }
}
