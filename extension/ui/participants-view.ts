import * as vscode from 'vscode';
import type { Participant } from '../../protocol';
import type { SessionController } from '../session/session-controller';

const roleIcon: Record<Participant['role'], string> = { host: 'star-full', editor: 'edit', viewer: 'eye' };

/** The Participants view: who is in the session (one entry per person), their role, which one is you. */
export class ParticipantsView implements vscode.TreeDataProvider<Participant>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly session: SessionController) {
    this.subscription = session.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: Participant): Participant[] {
    if (element) return [];
    // One entry per user, however many windows they have connected.
    const byUser = new Map<string, Participant>();
    for (const participant of this.session.participants) if (!byUser.has(participant.user_id)) byUser.set(participant.user_id, participant);
    const order = { host: 0, editor: 1, viewer: 2 };
    return [...byUser.values()].sort((a, b) => order[a.role] - order[b.role] || a.display_name.localeCompare(b.display_name));
  }

  getTreeItem(participant: Participant): vscode.TreeItem {
    const isMe = participant.user_id === this.session.info?.userId;
    const item = new vscode.TreeItem(participant.display_name + (isMe ? ' (you)' : ''));
    item.id = participant.user_id;
    item.description = participant.role;
    item.iconPath = new vscode.ThemeIcon(roleIcon[participant.role]);
    item.contextValue = isMe ? 'tandem.self' : 'tandem.participant';
    item.tooltip = `${participant.display_name}: ${participant.role}`;
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
