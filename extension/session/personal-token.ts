import type * as vscode from 'vscode';

/**
 * The personal token (who you are on a relay, and that you may host) lives in VS Code's
 * SecretStorage (the OS keychain), never in settings: one per relay URL.
 */
export class PersonalTokenStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(relayUrl: string): Thenable<string | undefined> {
    return this.secrets.get(key(relayUrl));
  }
  set(relayUrl: string, token: string): Thenable<void> {
    return this.secrets.store(key(relayUrl), token.trim());
  }
  delete(relayUrl: string): Thenable<void> {
    return this.secrets.delete(key(relayUrl));
  }
}

const key = (relayUrl: string) => `tandem.personalToken:${relayUrl.replace(/\/+$/, '')}`;
