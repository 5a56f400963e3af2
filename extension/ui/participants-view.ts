import * as vscode from 'vscode';
import type { Participant } from '../../protocol';
import { commandIds } from '../commands/command-ids';
import type { FollowMode } from '../presence/follow';
import type { RemoteCursors } from '../presence/remote-cursors';
import type { HostControls, WaitingGuest } from '../session/host-controls';
import type { SessionController } from '../session/session-controller';

const roleIcon: Record<Participant['role'], string> = { host: 'star-full', editor: 'edit', viewer: 'eye' };

/** An entry: someone in the session, or (for the host) a guest waiting to be admitted. */
export type ParticipantsEntry = Participant | WaitingGuest;

const isWaiting = (entry: ParticipantsEntry): entry is WaitingGuest => 'request_id' in entry;

/**
 * The Participants view: who is in the session (one entry per person), their role, the file
 * they are in, and Follow / Go to for each of the others; for the host, the guests waiting to be
 * admitted (Admit / Deny) and, on each guest, Make Viewer / Make Editor and Remove.
 */
export class ParticipantsView implements vscode.TreeDataProvider<ParticipantsEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly session: SessionController,
    private readonly cursors: RemoteCursors,
    private readonly follow: FollowMode,
    private readonly controls: HostControls,
  ) {
    const refresh = () => this.changed.fire();
    this.subscriptions = [
      session.onDidChange(refresh),
      cursors.onDidChange(refresh),
      follow.onDidChange(refresh),
      controls.onDidChange(refresh),
    ];
  }

  getChildren(element?: ParticipantsEntry): ParticipantsEntry[] {
    if (element) return [];
    // One entry per user, however many windows they have connected.
    const byUser = new Map<string, Participant>();
    for (const participant of this.session.participants) if (!byUser.has(participant.user_id)) byUser.set(participant.user_id, participant);
    const order = { host: 0, editor: 1, viewer: 2 };
    const present = [...byUser.values()].sort((a, b) => order[a.role] - order[b.role] || a.display_name.localeCompare(b.display_name));
    return [...present, ...this.controls.waiting];
  }

  getTreeItem(entry: ParticipantsEntry): vscode.TreeItem {
    if (isWaiting(entry)) {
      const item = new vscode.TreeItem(entry.display_name);
      item.id = `request:${entry.request_id}`;
      item.description = `waiting · ${entry.role}`;
      item.iconPath = new vscode.ThemeIcon('watch');
      item.contextValue = 'tandem.joinRequest';
      item.tooltip = `${entry.display_name} asks to join as ${entry.role === 'editor' ? 'an editor' : 'a viewer'}: Admit or Deny`;
      return item;
    }
    const participant = entry;
    const isMe = participant.user_id === this.session.info?.userId;
    const following = this.follow.following === participant.user_id;
    const item = new vscode.TreeItem(participant.display_name + (isMe ? ' (you)' : ''));
    item.id = participant.user_id;
    const file = this.cursors.get(participant.user_id)?.documentId;
    item.description = [participant.role, file, following ? 'following' : undefined].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(following ? 'eye-watch' : roleIcon[participant.role]);
    // The role last: the host's menus (Make Viewer, Make Editor, Remove) go by it.
    item.contextValue = isMe ? 'tandem.self' : `tandem.participant.${following ? 'followed.' : ''}${participant.role}`;
    item.tooltip = `${participant.display_name}: ${participant.role}${file ? `, in ${file}` : ''}`;
    if (!isMe && file) item.command = { command: commandIds.goToParticipant, title: 'Go to', arguments: [participant] };
    return item;
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}
