import * as vscode from 'vscode';
import type { SessionController } from '../session/session-controller';
import type { HostTerminal } from '../terminal/host-terminal';
import type { TerminalSharing } from '../terminal/terminal-sharing';
import type { Notifier } from '../ui/notifier';
import { commandIds } from './command-ids';

/**
 * The host's shared terminal commands: Share Terminal, Allow Guests to Type in Terminal, Make
 * Shared Terminal Read-Only, Stop Sharing Terminal. The last three act on the terminal given (its
 * id), else the active one if it is shared, else the only shared one, else one picked.
 */
export function registerTerminalCommands(session: SessionController, terminals: TerminalSharing, notifier: Notifier): vscode.Disposable {
  const hostOnly = (): boolean => {
    if (session.info?.role === 'host' && session.isActive && terminals.host) return true;
    notifier.show('warning', 'Tandem: only the host of a live session can share a terminal.');
    return false;
  };
  const pick = async (id: unknown, title: string, fits: (t: HostTerminal) => boolean = () => true): Promise<HostTerminal | undefined> => {
    const shared = terminals.host?.shared ?? [];
    if (typeof id === 'string') return shared.find((t) => t.id === id);
    const active = shared.find((t) => t.terminal === vscode.window.activeTerminal && fits(t));
    if (active) return active;
    const candidates = shared.filter(fits);
    if (candidates.length <= 1) {
      if (candidates.length === 0) notifier.show('info', 'Tandem: no shared terminal to choose.');
      return candidates[0];
    }
    const picked = await vscode.window.showQuickPick(
      candidates.map((t) => ({ label: t.terminal.name, terminal: t })),
      { title },
    );
    return picked?.terminal;
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.shareTerminal, (name?: string) => {
      if (!hostOnly()) return undefined;
      try {
        const shared = terminals.host!.share(typeof name === 'string' ? name : undefined);
        shared.terminal.show();
        return shared.id;
      } catch (error) {
        notifier.show('error', `Tandem: could not share a terminal: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand(commandIds.allowTerminalInput, async (id?: string) => {
      if (!hostOnly()) return;
      const terminal = await pick(id, 'Let guests (editors) type in which terminal?', (t) => !t.guestsCanType);
      if (terminal) terminals.host!.setGuestsCanType(terminal, true);
    }),
    vscode.commands.registerCommand(commandIds.revokeTerminalInput, async (id?: string) => {
      if (!hostOnly()) return;
      const granted = terminals.host!.shared.filter((t) => t.guestsCanType);
      // From the status bar item (no argument, several granted): all of them at once.
      const targets =
        typeof id === 'string' || granted.length <= 1
          ? [await pick(id, 'Make which terminal read-only?', (t) => t.guestsCanType)]
          : granted;
      for (const terminal of targets) if (terminal) terminals.host!.setGuestsCanType(terminal, false);
    }),
    vscode.commands.registerCommand(commandIds.stopSharingTerminal, async (id?: string) => {
      if (!hostOnly()) return;
      const terminal = await pick(id, 'Stop sharing which terminal?');
      if (terminal) terminals.host!.stop(terminal);
    }),
  );
}
