import * as vscode from 'vscode';
import type { NotificationPayload } from '../../protocol';
import type { SessionController } from '../session/session-controller';

/** Shows what the session announces (joins, leaves, the end) and what the relay notifies, as VS Code messages. */
export function showSessionMessages(session: SessionController): vscode.Disposable {
  return vscode.Disposable.from(
    session.onDidAnnounce((message) => void vscode.window.showInformationMessage(`Tandem: ${message}`)),
    session.onDidNotify(({ level, message }) => void showNotice(level, `Tandem (relay): ${message}`)),
  );
}

function showNotice(level: NotificationPayload['level'], message: string): Thenable<unknown> {
  if (level === 'error') return vscode.window.showErrorMessage(message);
  if (level === 'warning') return vscode.window.showWarningMessage(message);
  return vscode.window.showInformationMessage(message);
}
