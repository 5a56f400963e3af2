import * as vscode from 'vscode';
import { registerDebugCommands } from './commands/debug-commands';
import { registerFollowCommands } from './commands/follow-commands';
import { registerSessionCommands } from './commands/session-commands';
import { registerUndoCommands } from './commands/undo-commands';
import { Log } from './log';
import { FollowMode } from './presence/follow';
import { RemoteCursors } from './presence/remote-cursors';
import { SharedDocumentRegistry } from './presence/shared-document-registry';
import { PersonalTokenStore } from './session/personal-token';
import { SessionController } from './session/session-controller';
import { ParticipantsView } from './ui/participants-view';
import { showSessionMessages } from './ui/session-messages';
import { SessionStatusBar } from './ui/status-bar';
import { SaveStateFollower } from './collab/save-state';
import { registerWorkspaceSharing } from './workspace/workspace-sharing';
import { SessionDocuments } from './collab/session-documents';
import { SharedUndo } from './collab/shared-undo';
import { type Debugging, registerDebugging } from './debugging/debugging';
import { ChatService } from './chat/chat-service';
import { CHAT_VIEW_ID, ChatView } from './chat/chat-view';
import { registerChatCommands } from './commands/chat-commands';
import { settings } from './config';
import { Notifier } from './ui/notifier';
import { FeedbackService } from './chat/feedback-service';
import { HostControls } from './session/host-controls';
import { FocusRequests } from './presence/focus-requests';
import { showJoinRequests } from './ui/join-requests';
import { registerHostCommands } from './commands/host-commands';
import { LanguageSharing } from './language/language-sharing';
import { SharedSearch } from './search/shared-search';
import { registerSearchCommands } from './commands/search-commands';
import { TunnelSharing } from './tunnels/tunnel-sharing';
import { SharedServersView } from './tunnels/shared-servers-view';
import { registerTunnelCommands } from './commands/tunnel-commands';
import { TerminalSharing } from './terminal/terminal-sharing';
import { registerTerminalCommands } from './commands/terminal-commands';

/** What `activate` returns (`vscode.extensions.getExtension('tandem.tandem').exports`): for tests and other extensions. */
export interface TandemApi {
  readonly session: SessionController;
  /** Every shared text document's OT binding. */
  readonly sessionDocuments: SessionDocuments;
  readonly documents: SharedDocumentRegistry;
  readonly cursors: RemoteCursors;
  readonly follow: FollowMode;
  readonly statusBar: SessionStatusBar;
  readonly personalTokens: PersonalTokenStore;
  /** Debugging together: breakpoints, the host's debugger, guests' control. */
  readonly debugging: Debugging;
  /** The session's chat and AI answers (its `model`). */
  readonly chat: ChatService;
  /** The Chat view: what it posts to its webview (`lastState`), and its handling of the webview's messages. */
  readonly chatView: ChatView;
  /** Every notification shown, with its actions. */
  readonly notifier: Notifier;
  /** Feedback to the relay: AI answers' thumbs, Send Feedback (its `prompts` can be answered by a suite). */
  readonly feedback: FeedbackService;
  /** The host in charge: guests waiting to be admitted, removal, roles, Focus Participants. */
  readonly hostControls: HostControls;
  /** The Participants view (its entries, waiting guests included). */
  readonly participants: ParticipantsView;
  /** The host's language features: as guest, its providers and Problems (`guest`); as host, the service. */
  readonly language: LanguageSharing;
  /** Go to Shared File and Find in Shared Folder (its `results`). */
  readonly search: SharedSearch;
  /** Shared servers (port forwarding): the host's `host`, the guest's `guest`, the view's `entries`. */
  readonly tunnels: TunnelSharing;
  /** Shared terminals: as host, its shares (`host`) and the grant's status bar text; as guest, the host's terminals (`guest`). */
  readonly terminals: TerminalSharing;
}

/**
 * The composition root of the extension: the session, its views and its commands. Everything
 * is registered on `context.subscriptions`, so deactivation disposes it.
 */
export function activate(context: vscode.ExtensionContext): TandemApi {
  const log = new Log();
  const session = new SessionController(log);
  const documents = new SharedDocumentRegistry(session);
  const cursors = new RemoteCursors(session, documents);
  const follow = new FollowMode(session, cursors, documents);
  const statusBar = new SessionStatusBar(session, follow);
  const hostControls = new HostControls(session, log);
  const participants = new ParticipantsView(session, cursors, follow, hostControls);
  const personalTokens = new PersonalTokenStore(context.secrets);
  const notifier = new Notifier();
  const chat = new ChatService(session, log);
  const feedback = new FeedbackService(session, personalTokens, notifier, log);
  const chatView = new ChatView(context.extensionUri, chat, session, documents, log, feedback);
  void vscode.commands.executeCommand('setContext', 'tandem.state', 'idle');
  void vscode.commands.executeCommand('setContext', 'tandem.role', 'none');

  // Before the session: disposed first, so that closing the window is not taken for leaving.
  const sharing = registerWorkspaceSharing(context, session, log);
  const sessionDocuments = new SessionDocuments(session, documents, sharing, log);
  const undo = new SharedUndo((document) => sessionDocuments.bindingOf(document), sessionDocuments.onDidChangeBindings);
  const saveState = new SaveStateFollower(sessionDocuments, sharing, log);
  context.subscriptions.push(
    sharing,
    sessionDocuments,
    undo,
    saveState,
    statusBar.showRepairs(sessionDocuments.onDidRepair),
    sessionDocuments.onDidRefuseEdit(({ document, message }) =>
      notifier.show('warning', `Tandem: your change to ${document} could not be shared (${message}); it was taken out of your editor.`),
    ),
    sessionDocuments.onDidRefuseOpen(({ document, message }) =>
      notifier.show('warning', `Tandem: ${document} is not shared in this session (${message}); edits to it stay on this machine.`),
    ),
  );
  // After `sharing`: its listener makes the host's shared folder before this one looks for it.
  const language = new LanguageSharing(session, sharing, log);
  const search = new SharedSearch(sharing, () => (session.info?.role === 'host' ? undefined : session.info?.sessionId));
  context.subscriptions.push(language, search, registerSearchCommands(search));
  const tunnels = new TunnelSharing(session, notifier, log);
  const sharedServers = new SharedServersView(tunnels);
  context.subscriptions.push(
    tunnels,
    sharedServers,
    vscode.window.registerTreeDataProvider('tandem.sharedServers', sharedServers),
    registerTunnelCommands(tunnels, notifier),
  );
  const terminals = new TerminalSharing(session, sharing, notifier, log);
  context.subscriptions.push(terminals, registerTerminalCommands(session, terminals, notifier));
  const debugging = registerDebugging(session, sharing, log);
  context.subscriptions.push(debugging, registerDebugCommands(debugging));
  context.subscriptions.push(
    log,
    session,
    documents,
    cursors,
    follow,
    statusBar,
    hostControls,
    participants,
    vscode.window.registerTreeDataProvider('tandem.participants', participants),
    notifier,
    showJoinRequests(hostControls, notifier, log),
    new FocusRequests(session, follow, notifier),
    chat,
    feedback,
    chatView,
    vscode.window.registerWebviewViewProvider(CHAT_VIEW_ID, chatView, { webviewOptions: { retainContextWhenHidden: true } }),
    showSessionMessages(session, notifier),
    // A chat message while the view is hidden: a notification with Open Chat, if tandem.notifyOnChatMessage asks.
    chat.onDidReceive((entry) => {
      if (chatView.visible || !settings().notifyOnChatMessage || settings().notifications === 'none' || entry.kind === 'notice') return;
      const what = entry.kind === 'ai' ? `asked the AI: ${entry.prompt}` : entry.content;
      notifier.show('info', `Tandem: ${entry.author.displayName}: ${what.length > 120 ? `${what.slice(0, 119)}…` : what}`, {
        title: 'Open Chat',
        run: () => chatView.reveal(),
      });
    }),
    // Commands call the services above (their ids: commands/command-ids.ts).
    registerSessionCommands(session, personalTokens, notifier, log),
    registerFollowCommands(session, follow),
    registerHostCommands(session, hostControls, notifier, log),
    registerUndoCommands(undo),
    registerChatCommands(session, chat, chatView, documents, feedback),
  );
  log.info('Tandem activated');
  return {
    session,
    sessionDocuments,
    documents,
    cursors,
    follow,
    statusBar,
    personalTokens,
    chat,
    chatView,
    notifier,
    debugging,
    feedback,
    hostControls,
    participants,
    language,
    search,
    tunnels,
    terminals,
  };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
