import { userInfo } from 'node:os';
import * as vscode from 'vscode';
import { DEFAULT_EXCLUDE, DEFAULT_READ_ONLY } from './workspace/default-rules';

/** `all`: joins and leaves too; `important`: the session ending, the connection, the relay's notices; `none`. */
export type NotificationLevel = 'all' | 'important' | 'none';

/** The `tandem.*` settings, read when needed (a change applies to the next session). */
export function settings() {
  const config = vscode.workspace.getConfiguration('tandem');
  const displayName = config.get<string>('displayName', '').trim();
  return {
    relayUrl: config.get<string>('relayUrl', 'http://127.0.0.1:8001').trim().replace(/\/+$/, ''),
    displayName: displayName || safeUserName(),
    exclude: config.get<readonly string[]>('exclude', DEFAULT_EXCLUDE),
    respectGitignore: config.get<boolean>('respectGitignore', true),
    readOnlyForGuests: config.get<readonly string[]>('readOnlyForGuests', DEFAULT_READ_ONLY),
    sessionTtlHours: config.get<number>('sessionTtlHours', 12),
    notifications: config.get<NotificationLevel>('notifications', 'important'),
    notifyOnChatMessage: config.get<boolean>('notifyOnChatMessage', false),
    requireApproval: config.get<boolean>('requireApproval', false),
    acceptFocusRequests: config.get<boolean>('acceptFocusRequests', true),
    sharedTerminalScrollbackKiB: config.get<number>('sharedTerminalScrollbackKiB', 64),
  };
}

function safeUserName(): string {
  try {
    return userInfo().username || 'Guest';
  } catch {
    return 'Guest';
  }
}
