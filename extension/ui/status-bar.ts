import * as vscode from 'vscode';
import type { FollowMode } from '../presence/follow';
import type { SessionController, SessionState } from '../session/session-controller';

const look: Record<SessionState, { icon: string; label: string }> = {
  idle: { icon: '$(broadcast)', label: 'Tandem' },
  connecting: { icon: '$(sync~spin)', label: 'connecting' },
  live: { icon: '$(broadcast)', label: 'live' },
  reconnecting: { icon: '$(sync~spin)', label: 'reconnecting' },
  ended: { icon: '$(circle-slash)', label: 'ended' },
};

/** One status bar item: the session's state, how many are in it, and the round-trip latency. */
export class SessionStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('tandem.status', vscode.StatusBarAlignment.Left, 100);
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly session: SessionController,
    private readonly follow?: FollowMode,
  ) {
    this.item.name = 'Tandem';
    this.subscriptions = [session.onDidChange(() => this.render())];
    if (follow) this.subscriptions.push(follow.onDidChange(() => this.render()));
    this.render();
    this.item.show();
  }

  /** What the item says, for tests. */
  get text(): string {
    return this.item.text;
  }

  private render(): void {
    const { state, info } = this.session;
    const { icon, label } = look[state];
    const parts = [`${icon} ${state === 'idle' ? label : `Tandem: ${label}`}`];
    if (state === 'live') {
      parts.push(`$(person) ${this.session.participants.length}`);
      if (this.session.latencyMs !== undefined) parts.push(`${this.session.latencyMs} ms`);
      if (this.session.relayDegraded) parts.push('$(warning) relay degraded');
      const followed = this.follow?.following;
      if (followed) parts.push(`$(eye) following ${this.session.participants.find((p) => p.user_id === followed)?.display_name ?? followed}`);
    }
    this.item.text = parts.join('  ');
    const warn = state === 'reconnecting' || (state === 'live' && this.session.relayDegraded);
    this.item.backgroundColor = warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tooltip = new vscode.MarkdownString(undefined, true);
    if (info) {
      tooltip.appendMarkdown(`**Tandem session** \`${info.sessionId}\`${info.name ? ` (${info.name})` : ''}\n\n`);
      tooltip.appendMarkdown(`You are **${info.displayName}**, ${info.role}. Relay: ${info.relayUrl}\n\n`);
      if (state === 'ended' && this.session.endReason) tooltip.appendMarkdown(`Ended: ${this.session.endReason}\n\n`);
      if (state === 'live' && this.session.relayDegraded) {
        tooltip.appendMarkdown('The relay lost its connection to Redis: your edits and messages are kept and go out when it is back; cursors still show.\n\n');
      }
    } else {
      tooltip.appendMarkdown('No session. Click to start or join one.');
    }
    this.item.tooltip = tooltip;
    this.item.command = 'tandem.showSessionMenu';
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}
