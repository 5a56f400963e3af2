import * as vscode from 'vscode';
import { commandIds } from '../commands/command-ids';
import { settings } from '../config';
import type { SessionController, SessionEvent } from '../session/session-controller';
import type { Notifier, Severity } from './notifier';

/**
 * What the session announces (joins, leaves, the end, the connection lost and back) and what the
 * relay notifies (an operator's notice, Redis lost and back), as VS Code notifications, as far as
 * `tandem.notifications` asks: `all`, `important` (the default: joins and leaves only in the
 * status bar and the chat) or `none`. Actions where one helps: Follow on a join, Reconnect when
 * the connection is lost.
 */
export function showSessionMessages(session: SessionController, notifier: Notifier): vscode.Disposable {
  return vscode.Disposable.from(
    session.onDidHappen((event) => {
      const level = settings().notifications;
      if (level === 'none') return;
      const shown = describe(event);
      if (shown.important || level === 'all') notifier.show(shown.severity, `Tandem: ${shown.message}`, ...shown.actions);
    }),
    session.onDidNotify(({ level, message }) => {
      if (settings().notifications !== 'none') notifier.show(level, `Tandem (relay): ${message}`);
    }),
  );
}

function describe(event: SessionEvent): {
  severity: Severity;
  message: string;
  important: boolean;
  actions: Array<{ title: string; run: () => unknown }>;
} {
  switch (event.kind) {
    case 'joined': {
      const { participant } = event;
      return {
        severity: 'info',
        message: `${participant.display_name} joined the session (${participant.role})`,
        important: false,
        actions: [
          { title: 'Follow', run: () => vscode.commands.executeCommand(commandIds.followParticipant, participant.user_id) },
          { title: 'Open Chat', run: () => vscode.commands.executeCommand(commandIds.openChat) },
        ],
      };
    }
    case 'left':
      return { severity: 'info', message: `${event.participant.display_name} left the session`, important: false, actions: [] };
    case 'role-changed': {
      const { change, self } = event;
      if (self)
        return {
          severity: 'info',
          message:
            change.role === 'viewer'
              ? 'the host made you a viewer: the shared files are read-only for you now'
              : 'the host made you an editor: you can edit the shared files again',
          important: true,
          actions: [],
        };
      const who = change.display_name ?? change.user_id;
      return {
        severity: 'info',
        message: `${who} is ${change.role === 'viewer' ? 'a viewer' : 'an editor'} now`,
        important: false,
        actions: [],
      };
    }
    case 'ended':
      return { severity: 'warning', message: capitalise(event.reason), important: true, actions: [] };
    case 'connection-lost':
      return {
        severity: 'warning',
        message: 'the connection to the relay was lost; reconnecting (your edits and messages wait)',
        important: true,
        actions: [{ title: 'Reconnect', run: () => vscode.commands.executeCommand(commandIds.reconnect) }],
      };
    case 'connection-back':
      return { severity: 'info', message: 'connected to the relay again', important: true, actions: [] };
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
