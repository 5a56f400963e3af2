import { userInfo } from 'node:os';
import * as vscode from 'vscode';

/** The `tandem.*` settings, read when needed (a change applies to the next session). */
export function settings() {
  const config = vscode.workspace.getConfiguration('tandem');
  const displayName = config.get<string>('displayName', '').trim();
  return {
    relayUrl: config.get<string>('relayUrl', 'http://127.0.0.1:8001').trim().replace(/\/+$/, ''),
    displayName: displayName || safeUserName(),
    exclude: config.get<string[]>('exclude', ['**/.env', '**/*.pem', '**/*.key']),
    respectGitignore: config.get<boolean>('respectGitignore', true),
    readOnlyForGuests: config.get<string[]>('readOnlyForGuests', ['.vscode', '.devcontainer']),
    sessionTtlHours: config.get<number>('sessionTtlHours', 12),
  };
}

function safeUserName(): string {
  try {
    return userInfo().username || 'Guest';
  } catch {
    return 'Guest';
  }
}
