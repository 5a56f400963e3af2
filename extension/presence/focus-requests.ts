import type * as vscode from 'vscode';
import type { FocusPayload, RelayClient } from '../../protocol';
import { settings } from '../config';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import type { FollowMode } from './follow';

/**
 * The host's Focus Participants, on a guest's side: follow the host at once and say so (with
 * Stop Following), or, with `tandem.acceptFocusRequests` off, only offer to (Follow). The relay
 * lets only the host send it.
 */
export class FocusRequests implements vscode.Disposable {
  private bound: RelayClient | undefined;
  private clientSubscription: { dispose(): void } | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly session: SessionController,
    private readonly follow: FollowMode,
    private readonly notifier: Notifier,
  ) {
    this.subscription = session.onDidChange(() => this.bind());
    this.bind();
  }

  private bind(): void {
    const client = this.session.isActive ? this.session.client : undefined;
    if (client === this.bound) return;
    this.clientSubscription?.dispose();
    this.bound = client;
    // Never replayed on a resume: the relay does not log it (an old summons is no summons).
    this.clientSubscription = client?.on('session.focus', (request) => this.onFocus(request));
  }

  private onFocus(request: FocusPayload): void {
    if (request.user_id === this.session.info?.userId) return;
    const name = request.display_name;
    if (!settings().acceptFocusRequests) {
      this.notifier.show('info', `Tandem: ${name} asks everyone to follow them.`, {
        title: 'Follow',
        run: () => this.follow.follow(request.user_id),
      });
      return;
    }
    this.follow.follow(request.user_id);
    this.notifier.show('info', `Tandem: ${name} asked everyone to follow them; you are following ${name}.`, {
      title: 'Stop Following',
      run: () => this.follow.stop(),
    });
  }

  dispose(): void {
    this.clientSubscription?.dispose();
    this.subscription.dispose();
  }
}
