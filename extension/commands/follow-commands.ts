import * as vscode from 'vscode';
import type { Participant } from '../../protocol';
import type { FollowMode } from '../presence/follow';
import type { SessionController } from '../session/session-controller';
import { commandIds } from './command-ids';

/** Registers following and going to a participant (from the palette, or from the participants view with one given). */
export function registerFollowCommands(session: SessionController, follow: FollowMode): vscode.Disposable {
  const commands = new FollowCommands(session);
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.followParticipant, (who?: Participant | string) => commands.follow(follow, who)),
    vscode.commands.registerCommand(commandIds.unfollow, () => follow.stop()),
    vscode.commands.registerCommand(commandIds.goToParticipant, (who?: Participant | string) => commands.goTo(follow, who)),
  );
}

/** Follow and Go to: the participant given, or one picked from the others. */
class FollowCommands {
  constructor(private readonly session: SessionController) {}

  async follow(follow: FollowMode, who?: Participant | string): Promise<void> {
    const userId = await this.pickParticipant(who, 'Follow whom?');
    if (userId) follow.follow(userId);
  }

  async goTo(follow: FollowMode, who?: Participant | string): Promise<void> {
    const userId = await this.pickParticipant(who, 'Go to whom?');
    if (userId && !(await follow.goTo(userId)))
      void vscode.window.showInformationMessage('Tandem: they are not in a shared file right now.');
  }

  /** The user id given (a participant from the view, or an id), or one picked from the others. */
  private async pickParticipant(who: Participant | string | undefined, title: string): Promise<string | undefined> {
    if (typeof who === 'string') return who;
    if (who) return who.user_id;
    const me = this.session.info?.userId;
    const others = new Map(this.session.participants.filter((p) => p.user_id !== me).map((p) => [p.user_id, p]));
    if (others.size === 0) return void vscode.window.showInformationMessage('Tandem: nobody else is in the session.');
    const picked = await vscode.window.showQuickPick(
      [...others.values()].map((p) => ({ label: p.display_name, description: p.role, userId: p.user_id })),
      { title },
    );
    return picked?.userId;
  }
}
