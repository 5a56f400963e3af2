import * as vscode from 'vscode';
import type { GuestRole, JoinRequestPayload, RelayClient } from '../../protocol';
import type { Log } from '../log';
import { RelayApiError, relayApi } from './relay-api';
import type { SessionController } from './session-controller';

/** A guest waiting at the door: who, with which role (from their link), until when. */
export type WaitingGuest = JoinRequestPayload;

/**
 * The host in charge: the guests waiting for approval (told by the relay as they ask, and listed
 * again at each connection for those who asked while it was down) and the host's answers,
 * removing a guest, changing a guest's role, asking everyone to follow. Every decision is the
 * relay's to enforce; this only asks it, with the host's token.
 */
export class HostControls implements vscode.Disposable {
  private readonly requests = new Map<string, { request: WaitingGuest; timer: NodeJS.Timeout }>();
  private bound: RelayClient | undefined;
  private clientSubscriptions: Array<{ dispose(): void }> = [];
  private readonly subscriptions: vscode.Disposable[];
  private readonly changed = new vscode.EventEmitter<void>();
  /** The waiting guests changed. */
  readonly onDidChange = this.changed.event;
  private readonly asked = new vscode.EventEmitter<WaitingGuest>();
  /** A guest asks to join (once per request). */
  readonly onDidAsk = this.asked.event;

  constructor(
    private readonly session: SessionController,
    private readonly log: Log,
  ) {
    this.subscriptions = [session.onDidChange(() => this.follow()), session.onDidConnect(() => void this.listWaiting())];
    this.follow();
  }

  /** The guests waiting for the host's answer, oldest first. */
  get waiting(): WaitingGuest[] {
    return [...this.requests.values()].map((entry) => entry.request);
  }

  /** Admits (true) or turns away a waiting guest. */
  async answer(requestId: string, admit: boolean): Promise<void> {
    const info = this.hostInfo();
    try {
      await relayApi.decideJoinRequest(info.relayUrl, info.sessionId, requestId, info.token, admit);
    } catch (error) {
      // The relay's answer (expired, used up, ended) is final; an unreachable relay is not: the
      // guest still waits, and the host can answer again.
      if (!(error instanceof RelayApiError && error.code === 'UNREACHABLE')) this.forget(requestId);
      throw error;
    }
    this.forget(requestId);
  }

  /** Removes a guest: the relay closes their connections and refuses their token from now on. */
  async remove(userId: string): Promise<void> {
    const info = this.hostInfo();
    await relayApi.removeParticipant(info.relayUrl, info.sessionId, userId, info.token);
  }

  /**
   * New invite links (kept for Copy Invite Link; the editor's returned), with approval if the
   * session's links needed it; every earlier link is refused from then on.
   */
  async renewInvites(): Promise<string> {
    const info = this.hostInfo();
    const approval = info.invites?.editor.approval === true;
    const { invites } = await relayApi.renewInvites(info.relayUrl, info.sessionId, info.token, approval ? { approval } : {});
    info.invites = invites;
    this.log.info('renewed the invite links: the earlier ones no longer admit anyone');
    return invites.editor.link;
  }

  /** Makes a guest an editor or a viewer; the relay enforces it and tells everyone. */
  async setRole(userId: string, role: GuestRole): Promise<void> {
    const info = this.hostInfo();
    await relayApi.changeRole(info.relayUrl, info.sessionId, userId, info.token, role);
  }

  /** Asks everyone to follow the host; false when not connected. */
  focus(): boolean {
    this.hostInfo();
    return this.session.client?.send('session.focus', {}) ?? false;
  }

  private hostInfo() {
    const info = this.session.info;
    if (!info || info.role !== 'host' || !this.session.isActive) throw new Error('only the host of a live session can do this');
    return info;
  }

  private follow(): void {
    const client = this.session.isActive && this.session.info?.role === 'host' ? this.session.client : undefined;
    if (client === this.bound) return;
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    for (const id of [...this.requests.keys()]) this.forget(id);
    this.bound = client;
    if (client) this.clientSubscriptions.push(client.on('session.join_request', (request) => this.add(request)));
  }

  /** Requests made while this connection was down reach the host only this way. */
  private async listWaiting(): Promise<void> {
    const info = this.session.info;
    if (info?.role !== 'host') return;
    try {
      const { requests } = await relayApi.joinRequests(info.relayUrl, info.sessionId, info.token);
      for (const request of requests) {
        const { request_id, user_id, display_name, role, expires_at } = request;
        this.add({ request_id, user_id, display_name, role, expires_at });
      }
    } catch (error) {
      this.log.warn(`could not list the guests waiting to join: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private add(request: WaitingGuest): void {
    if (this.requests.has(request.request_id)) return;
    const left = Date.parse(request.expires_at) - Date.now();
    if (!(left > 0)) return;
    // The relay forgets it then; so does the view.
    const timer = setTimeout(() => this.forget(request.request_id), left);
    this.requests.set(request.request_id, { request, timer });
    this.log.info(`${request.display_name} (${request.user_id}) asks to join as ${request.role}`);
    this.asked.fire(request);
    this.changed.fire();
  }

  private forget(requestId: string): void {
    const entry = this.requests.get(requestId);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.requests.delete(requestId);
    this.changed.fire();
  }

  dispose(): void {
    for (const subscription of this.clientSubscriptions.splice(0)) subscription.dispose();
    for (const { timer } of this.requests.values()) clearTimeout(timer);
    this.requests.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
    this.asked.dispose();
  }
}
