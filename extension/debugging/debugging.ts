import * as vscode from 'vscode';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import { SHARED_SCHEME } from '../workspace/shared-fs';
import { BreakpointSync, type DebugFiles } from './breakpoint-sync';
import { DebugChannel } from './debug-channel';
import { GuestControl } from './guest-control';
import { HostDebugView } from './host-debug-view';
import { HostDebugger } from './host-debugger';

/** What debugging needs from workspace sharing: the host's shared files by document id. */
export interface DebugSharing {
  documentIdOf(uri: vscode.Uri): Promise<string | undefined>;
  /** Host: where a document id lives in its folder. */
  uriOf(documentId: string): vscode.Uri | undefined;
}

/** Debugging together: breakpoints in step, the host's debugger shared, guests' control of it. */
export interface Debugging extends vscode.Disposable {
  readonly channel: DebugChannel;
  readonly breakpoints: BreakpointSync;
  readonly host: HostDebugger;
  readonly view: HostDebugView;
  readonly control: GuestControl;
}

const allowGuestDebugControl = () => vscode.workspace.getConfiguration('tandem').get<boolean>('allowGuestDebugControl', true);

/** Builds debugging together and registers its view (its commands: commands/debug-commands.ts). */
export function registerDebugging(session: SessionController, sharing: DebugSharing, log: Log): Debugging {
  const channel = new DebugChannel(session);
  const files: DebugFiles = {
    documentIdOf: (uri) => sharing.documentIdOf(uri),
    uriOf: (documentId) => {
      const info = session.isActive ? session.info : undefined;
      if (!info) return undefined;
      if (info.role === 'host') return sharing.uriOf(documentId);
      return vscode.Uri.from({ scheme: SHARED_SCHEME, authority: info.sessionId, path: `/${documentId}` });
    },
  };
  const breakpoints = new BreakpointSync(channel, files, allowGuestDebugControl, log);
  const host = new HostDebugger(channel, files.documentIdOf, allowGuestDebugControl, log);
  const view = new HostDebugView(channel, files.uriOf);
  const control = new GuestControl(channel);
  let role = session.info?.role;
  const subscriptions: vscode.Disposable[] = [
    session.onDidChange(() => {
      if (session.isActive) role = session.info?.role;
      // A guest's breakpoints in the session's files mean nothing once it has left; the host keeps its own.
      else if (role !== undefined) {
        breakpoints.clear(role !== 'host');
        role = undefined;
      }
    }),
    vscode.window.registerTreeDataProvider('tandem.debugging', view),
  ];
  void vscode.commands.executeCommand('setContext', 'tandem.hostStopped', false);
  return {
    channel,
    breakpoints,
    host,
    view,
    control,
    dispose() {
      for (const subscription of subscriptions) subscription.dispose();
      for (const part of [control, view, host, breakpoints, channel]) part.dispose();
    },
  };
}
