import assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TandemApi } from '../../../extension/extension';
import { mintPersonalToken } from '../../../relay/auth/tokens';
import { RelayProcess } from '../../support/relay-process';
import { eventually } from './eventually';

/**
 * A relay process and this window hosting a live session on it, as a user starts one (personal
 * token, Start Session): the set-up of the suites where this window is the host.
 */
export async function hostLiveSession(settings: Record<string, string> = {}): Promise<{ relay: RelayProcess; api: TandemApi }> {
  const relay = await RelayProcess.start(settings);
  const extension = vscode.extensions.getExtension<TandemApi>('tandem.tandem');
  assert.ok(extension);
  const api = await extension.activate();
  await vscode.workspace.getConfiguration('tandem').update('relayUrl', relay.httpUrl, vscode.ConfigurationTarget.Global);
  await vscode.commands.executeCommand(
    'tandem.setPersonalToken',
    mintPersonalToken(relay.secret, { user: 'hana', name: 'Hana', ttl: '1h' }),
  );
  await vscode.commands.executeCommand('tandem.startSession');
  await eventually(
    () => api.session.state === 'live',
    () => `the session to go live (${api.session.state})`,
  );
  return { relay, api };
}

/**
 * Undoes `hostLiveSession` (for a suite's teardown, after a set-up that may have failed midway):
 * ends the session, closes the editors, stops the relay and forgets its URL.
 */
export async function endHostedSession(api: TandemApi | undefined, relay: RelayProcess | undefined): Promise<void> {
  if (api?.session.isActive) await vscode.commands.executeCommand('tandem.endSession');
  api?.session.reset();
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  await relay?.stop();
  await vscode.workspace.getConfiguration('tandem').update('relayUrl', undefined, vscode.ConfigurationTarget.Global);
}
