import * as vscode from 'vscode';
import type { GuestRole, Participant } from '../../protocol';
import type { Log } from '../log';
import type { HostControls, WaitingGuest } from '../session/host-controls';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import { commandIds } from './command-ids';

/**
 * Registers the host's commands: Focus Participants, Remove Participant, Renew Invite Links, Make
 * Viewer / Editor, Admit / Deny a waiting guest.
 */
export function registerHostCommands(session: SessionController, controls: HostControls, notifier: Notifier, log: Log): vscode.Disposable {
  const commands = new HostCommands(session, controls, notifier, log);
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.focusParticipants, () => commands.focus()),
    vscode.commands.registerCommand(commandIds.removeParticipant, (who?: Participant | string) => commands.remove(who)),
    vscode.commands.registerCommand(commandIds.renewInviteLinks, () => commands.renewInvites()),
    vscode.commands.registerCommand(commandIds.makeViewer, (who?: Participant | string) => commands.setRole(who, 'viewer')),
    vscode.commands.registerCommand(commandIds.makeEditor, (who?: Participant | string) => commands.setRole(who, 'editor')),
    vscode.commands.registerCommand(commandIds.admitGuest, (request?: WaitingGuest | string) => commands.answer(request, true)),
    vscode.commands.registerCommand(commandIds.denyGuest, (request?: WaitingGuest | string) => commands.answer(request, false)),
  );
}

/** The commands' user-facing side: who (given by the Participants view, or picked), and errors said plainly. */
class HostCommands {
  constructor(
    private readonly session: SessionController,
    private readonly controls: HostControls,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {}

  async focus(): Promise<void> {
    if (!this.isHost()) return;
    if (this.controls.focus()) this.notifier.show('info', 'Tandem: you asked everyone to follow you.');
    else this.notifier.show('warning', 'Tandem: not connected to the relay; ask again when the session is live.');
  }

  async remove(who?: Participant | string): Promise<void> {
    if (!this.isHost()) return;
    const guest = await this.pickGuest(who, 'Remove whom from the session?', () => true);
    if (!guest) return;
    await this.attempt(`remove ${guest.name}`, async () => {
      await this.controls.remove(guest.userId);
      // Their token is refused from now on, but the invite link they have would mint a new one.
      this.notifier.show(
        'info',
        `Tandem: you removed ${guest.name} from the session. ` +
          'The invite link would let them back in as a new guest: renew the links to stop it.',
        { title: 'Renew Invite Links', run: () => this.renewInvites() },
      );
    });
  }

  async renewInvites(): Promise<void> {
    if (!this.isHost()) return;
    await this.attempt('renew the invite links', async () => {
      await vscode.env.clipboard.writeText(await this.controls.renewInvites());
      this.notifier.show(
        'info',
        'Tandem: new invite links; the editor link is on the clipboard. The earlier links no longer admit anyone.',
      );
    });
  }

  async setRole(who: Participant | string | undefined, role: GuestRole): Promise<void> {
    if (!this.isHost()) return;
    const title = role === 'viewer' ? 'Make whom a viewer (read-only)?' : 'Make whom an editor?';
    const guest = await this.pickGuest(who, title, (p) => p.role !== role);
    if (guest)
      await this.attempt(`make ${guest.name} ${role === 'viewer' ? 'a viewer' : 'an editor'}`, () =>
        this.controls.setRole(guest.userId, role),
      );
  }

  async answer(request: WaitingGuest | string | undefined, admit: boolean): Promise<void> {
    if (!this.isHost()) return;
    let id = typeof request === 'string' ? request : request?.request_id;
    if (id === undefined) {
      const waiting = this.controls.waiting;
      if (waiting.length === 0) return void this.notifier.show('info', 'Tandem: nobody is waiting to join.');
      const picked = await vscode.window.showQuickPick(
        waiting.map((r) => ({ label: r.display_name, description: r.role, id: r.request_id })),
        { title: admit ? 'Admit whom?' : 'Deny whom?' },
      );
      id = picked?.id;
    }
    if (id === undefined) return;
    const requestId = id;
    const name = this.controls.waiting.find((r) => r.request_id === requestId)?.display_name ?? 'the guest';
    await this.attempt(`${admit ? 'admit' : 'deny'} ${name}`, () => this.controls.answer(requestId, admit));
  }

  private isHost(): boolean {
    if (this.session.info?.role === 'host' && this.session.isActive) return true;
    this.notifier.show('warning', 'Tandem: only the host of a live session can do this.');
    return false;
  }

  /** The guest given (from the view, or a user id), or one picked from the guests that `fits`. */
  private async pickGuest(
    who: Participant | string | undefined,
    title: string,
    fits: (participant: Participant) => boolean,
  ): Promise<{ userId: string; name: string } | undefined> {
    const guests = new Map(this.session.participants.filter((p) => p.role !== 'host').map((p) => [p.user_id, p]));
    if (typeof who === 'string') return { userId: who, name: guests.get(who)?.display_name ?? who };
    if (who) return { userId: who.user_id, name: who.display_name };
    const candidates = [...guests.values()].filter(fits);
    if (candidates.length === 0) return void this.notifier.show('info', 'Tandem: no guest to choose.');
    const picked = await vscode.window.showQuickPick(
      candidates.map((p) => ({ label: p.display_name, description: p.role, userId: p.user_id })),
      { title },
    );
    return picked && { userId: picked.userId, name: picked.label };
  }

  private async attempt(what: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.log.error(`could not ${what}`, error);
      this.notifier.show('error', `Tandem: could not ${what}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
