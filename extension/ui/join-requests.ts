import type * as vscode from 'vscode';
import type { Log } from '../log';
import type { HostControls } from '../session/host-controls';
import type { Notifier } from './notifier';

/**
 * Each guest asking to join, as a notification to the host with Admit and Deny (whatever
 * `tandem.notifications` says: nobody gets in otherwise). The Participants view lists them too.
 */
export function showJoinRequests(controls: HostControls, notifier: Notifier, log: Log): vscode.Disposable {
  const answer = (requestId: string, admit: boolean, name: string) =>
    controls.answer(requestId, admit).catch((error: unknown) => {
      log.error(`could not answer ${name}'s request to join`, error);
      notifier.show(
        'error',
        `Tandem: could not ${admit ? 'admit' : 'deny'} ${name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  return controls.onDidAsk((request) =>
    notifier.show(
      'info',
      `Tandem: ${request.display_name} asks to join the session as ${request.role === 'editor' ? 'an editor' : 'a viewer'}.`,
      { title: 'Admit', run: () => answer(request.request_id, true, request.display_name) },
      { title: 'Deny', run: () => answer(request.request_id, false, request.display_name) },
    ),
  );
}
