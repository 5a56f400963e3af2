import * as vscode from 'vscode';
import { commandIds } from '../commands/command-ids';
import type { FollowMode } from '../presence/follow';
import type { DocumentRepair } from '../collab/session-documents';
import type { SessionController, SessionState } from '../session/session-controller';

/** How long the status bar tells of a repair. */
const REPAIR_SHOWN_MS = 30_000;

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
  private repair: (DocumentRepair & { timer: ReturnType<typeof setTimeout> }) | undefined;

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

  /**
   * Shows each repair of a shared document for a while: the user should know their editor was
   * corrected (and that it is a bug to report), not find out from a changed line.
   */
  showRepairs(onDidRepair: vscode.Event<DocumentRepair>): vscode.Disposable {
    return onDidRepair((repair) => {
      if (this.repair) clearTimeout(this.repair.timer);
      const timer = setTimeout(() => {
        this.repair = undefined;
        this.render();
      }, REPAIR_SHOWN_MS);
      this.repair = { ...repair, timer };
      this.render();
    });
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
      if (this.repair) parts.push(`$(warning) repaired ${this.repair.document.split('/').pop()}`);
      const followed = this.follow?.following;
      if (followed)
        parts.push(`$(eye) following ${this.session.participants.find((p) => p.user_id === followed)?.display_name ?? followed}`);
    }
    this.item.text = parts.join('  ');
    const warn = state === 'reconnecting' || (state === 'live' && (this.session.relayDegraded || this.repair !== undefined));
    this.item.backgroundColor = warn ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    const tooltip = new vscode.MarkdownString(undefined, true);
    if (info) {
      tooltip.appendMarkdown(`**Tandem session** \`${info.sessionId}\`${info.name ? ` (${info.name})` : ''}\n\n`);
      tooltip.appendMarkdown(`You are **${info.displayName}**, ${info.role}. Relay: ${info.relayUrl}\n\n`);
      if (state === 'ended' && this.session.endReason) tooltip.appendMarkdown(`Ended: ${this.session.endReason}\n\n`);
      if (state === 'live' && this.session.relayDegraded) {
        tooltip.appendMarkdown(
          'The relay lost its connection to Redis: your edits and messages are kept and go out when it is back; cursors still show.\n\n',
        );
      }
      if (state === 'live' && this.repair) {
        tooltip.appendMarkdown(
          `Your copy of \`${this.repair.document}\` differed from the shared document and was replaced by the shared text ` +
            `(${this.repair.reason}). ` +
            'Edits waiting to be sent were kept. This should never happen: please report it with the log (**Tandem: Show Log**).\n\n',
        );
      }
    } else {
      tooltip.appendMarkdown('No session. Click to start or join one.');
    }
    this.item.tooltip = tooltip;
    this.item.command = commandIds.showSessionMenu;
  }

  dispose(): void {
    if (this.repair) clearTimeout(this.repair.timer);
    for (const subscription of this.subscriptions) subscription.dispose();
    this.item.dispose();
  }
}
