import * as vscode from 'vscode';
import type { NotificationPayload, Participant } from '../protocol';
import { settings } from './config';
import { Log } from './log';
import { FollowMode } from './presence/follow';
import { RemoteCursors } from './presence/remote-cursors';
import { SharedDocumentRegistry } from './presence/shared-document-registry';
import { InviteLinkError, parseInviteLink } from './session/invite-link';
import { PersonalTokenStore } from './session/personal-token';
import { RelayApiError } from './session/relay-api';
import { SessionController } from './session/session-controller';
import { ParticipantsView } from './ui/participants-view';
import { SessionStatusBar } from './ui/status-bar';
import { SaveStateFollower } from './collab/save-state';
import { registerWorkspaceSharing } from './workspace/workspace-sharing';
import { SessionDocuments } from './collab/session-documents';
import { SharedUndo } from './collab/shared-undo';

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
  const participants = new ParticipantsView(session, cursors, follow);
  const personalTokens = new PersonalTokenStore(context.secrets);
  const commands = new SessionCommands(session, personalTokens, log);
  void vscode.commands.executeCommand('setContext', 'tandem.state', 'idle');
  void vscode.commands.executeCommand('setContext', 'tandem.role', 'none');

  // Before the session: disposed first, so that closing the window is not taken for leaving.
  const sharing = registerWorkspaceSharing(context, session, log);
  const sessionDocuments = new SessionDocuments(session, documents, sharing, log);
  const undo = new SharedUndo((document) => sessionDocuments.bindingOf(document), sessionDocuments.onDidChangeBindings);
  const saveState = new SaveStateFollower(sessionDocuments, sharing, log);
  context.subscriptions.push(sharing, sessionDocuments, undo, saveState, statusBar.showRepairs(sessionDocuments.onDidRepair));
  context.subscriptions.push(
    log,
    session,
    documents,
    cursors,
    follow,
    statusBar,
    participants,
    vscode.window.registerTreeDataProvider('tandem.participants', participants),
    session.onDidAnnounce((message) => void vscode.window.showInformationMessage(`Tandem: ${message}`)),
    session.onDidNotify(({ level, message }) => void showNotice(level, `Tandem (relay): ${message}`)),
    vscode.commands.registerCommand('tandem.showLog', () => log.show()),
    vscode.commands.registerCommand('tandem.startSession', () => commands.start()),
    vscode.commands.registerCommand('tandem.endSession', () => commands.end()),
    vscode.commands.registerCommand('tandem.joinSession', (link?: string) => commands.join(link)),
    vscode.commands.registerCommand('tandem.leaveSession', () => commands.leave()),
    vscode.commands.registerCommand('tandem.copyInviteLink', (role?: 'editor' | 'viewer') => commands.copyInvite(role)),
    vscode.commands.registerCommand('tandem.setPersonalToken', (token?: string) => commands.setPersonalToken(token)),
    vscode.commands.registerCommand('tandem.forgetPersonalToken', () => commands.forgetPersonalToken()),
    vscode.commands.registerCommand('tandem.showSessionMenu', () => commands.menu()),
    vscode.commands.registerCommand('tandem.followParticipant', (who?: Participant | string) => commands.follow(follow, who)),
    vscode.commands.registerCommand('tandem.unfollow', () => follow.stop()),
    vscode.commands.registerCommand('tandem.undo', () => undo.run('undo')),
    vscode.commands.registerCommand('tandem.redo', () => undo.run('redo')),
    vscode.commands.registerCommand('tandem.goToParticipant', (who?: Participant | string) => commands.goTo(follow, who)),
    // vscode://tandem.tandem/join?relay=...&invite=... (the relay's invite links)
    vscode.window.registerUriHandler({ handleUri: (uri) => commands.join(uri.toString(true)) }),
  );
  log.info('Tandem activated');
  return { session, sessionDocuments, documents, cursors, follow, statusBar, personalTokens };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

/** The commands' user-facing side: prompts, progress, clipboard, and errors said plainly. */
class SessionCommands {
  constructor(
    private readonly session: SessionController,
    private readonly personalTokens: PersonalTokenStore,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    const { relayUrl, sessionTtlHours } = settings();
    let token = await this.personalTokens.get(relayUrl);
    if (!token) {
      token = await this.askPersonalToken(relayUrl);
      if (!token) return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const info = await this.run('Starting a Tandem session…', async () => {
      const started = await this.session.host(relayUrl, token, { name: folder?.name, ttlHours: sessionTtlHours });
      await this.session.whenLive();
      return started;
    });
    if (!info?.invites) return;
    await vscode.env.clipboard.writeText(info.invites.editor.link);
    // Not awaited: the command is done once the session is live, whether or not anyone clicks.
    void vscode.window
      .showInformationMessage(
        `Tandem: session ${info.sessionId} is live. The invite link (editors) is on your clipboard; send it to your guests.`,
        'Copy Viewer Link',
      )
      .then((choice) => (choice === 'Copy Viewer Link' ? this.copyInvite('viewer') : undefined));
  }

  async end(): Promise<void> {
    if (this.session.info?.role !== 'host')
      return void vscode.window.showWarningMessage('Tandem: only the host can end the session; guests leave it.');
    await this.run('Ending the session…', () => this.session.end());
  }

  async join(link?: string): Promise<void> {
    const text =
      link ??
      (await vscode.window.showInputBox({
        title: 'Join a Tandem session',
        prompt: 'Paste the invite link the host sent you',
        placeHolder: 'vscode://tandem.tandem/join?relay=…&invite=…',
        ignoreFocusOut: true,
        validateInput: (value) => {
          try {
            parseInviteLink(value);
            return undefined;
          } catch (error) {
            return error instanceof InviteLinkError ? error.message : String(error);
          }
        },
      }));
    if (!text) return;
    let invite;
    try {
      invite = parseInviteLink(text);
    } catch (error) {
      return void vscode.window.showErrorMessage(`Tandem: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (this.session.isActive) {
      const answer = await vscode.window.showWarningMessage(
        `Tandem: you are in session ${this.session.info?.sessionId}. Leave it and join the new one?`,
        { modal: true },
        'Leave and Join',
      );
      if (answer !== 'Leave and Join') return;
      this.session.leave();
    }
    await this.run('Joining the Tandem session…', async () => {
      await this.session.join(invite, settings().displayName);
      await this.session.whenLive();
    });
  }

  leave(): void {
    if (this.session.isActive) this.session.leave();
  }

  async copyInvite(role: 'editor' | 'viewer' = 'editor'): Promise<void> {
    const invites = this.session.info?.invites;
    if (!invites || !this.session.isActive)
      return void vscode.window.showWarningMessage('Tandem: only a host with a live session has invite links.');
    await vscode.env.clipboard.writeText(invites[role].link);
    void vscode.window.showInformationMessage(`Tandem: the ${role} invite link is on your clipboard.`);
  }

  async setPersonalToken(token?: string): Promise<void> {
    const { relayUrl } = settings();
    if (token) return void (await this.personalTokens.set(relayUrl, token));
    await this.askPersonalToken(relayUrl);
  }

  async forgetPersonalToken(): Promise<void> {
    const { relayUrl } = settings();
    await this.personalTokens.delete(relayUrl);
    void vscode.window.showInformationMessage(`Tandem: forgot the personal token for ${relayUrl}.`);
  }

  async follow(follow: FollowMode, who?: Participant | string): Promise<void> {
    const userId = await this.pickParticipant(who, 'Follow whom?');
    if (userId) follow.follow(userId);
  }

  async goTo(follow: FollowMode, who?: Participant | string): Promise<void> {
    const userId = await this.pickParticipant(who, 'Go to whom?');
    if (userId && !(await follow.goTo(userId)))
      void vscode.window.showInformationMessage('Tandem: they are not in a shared file right now.');
  }

  /** The user id given (a participant from the view, or an id), or one picked from the others. */
  private async pickParticipant(who: Participant | string | undefined, title: string): Promise<string | undefined> {
    if (typeof who === 'string') return who;
    if (who) return who.user_id;
    const me = this.session.info?.userId;
    const others = new Map(this.session.participants.filter((p) => p.user_id !== me).map((p) => [p.user_id, p]));
    if (others.size === 0) return void vscode.window.showInformationMessage('Tandem: nobody else is in the session.');
    const picked = await vscode.window.showQuickPick(
      [...others.values()].map((p) => ({ label: p.display_name, description: p.role, userId: p.user_id })),
      { title },
    );
    return picked?.userId;
  }

  /** The status bar item's menu: what can be done in the current state. */
  async menu(): Promise<void> {
    const { state, info } = this.session;
    const items: Array<vscode.QuickPickItem & { command: string; args?: unknown[] }> = [];
    if (!this.session.isActive) {
      items.push(
        { label: '$(broadcast) Start Session', command: 'tandem.startSession' },
        { label: '$(plug) Join Session', command: 'tandem.joinSession' },
      );
    } else if (info?.role === 'host') {
      items.push(
        { label: '$(link) Copy Editor Invite Link', command: 'tandem.copyInviteLink', args: ['editor'] },
        { label: '$(eye) Copy Viewer Invite Link', command: 'tandem.copyInviteLink', args: ['viewer'] },
        { label: '$(debug-stop) End Session', command: 'tandem.endSession' },
      );
    } else {
      items.push({ label: '$(debug-disconnect) Leave Session', command: 'tandem.leaveSession' });
    }
    items.push({ label: '$(output) Show Log', command: 'tandem.showLog' });
    const picked = await vscode.window.showQuickPick(items, { title: `Tandem (${state})` });
    if (picked) await vscode.commands.executeCommand(picked.command, ...(picked.args ?? []));
  }

  private async askPersonalToken(relayUrl: string): Promise<string | undefined> {
    const token = await vscode.window.showInputBox({
      title: `Personal token for ${relayUrl}`,
      prompt:
        'Hosting needs a personal token from the relay’s operator (relay token --user YOU --personal). It is kept in VS Code’s secret ' +
        'storage.',
      password: true,
      ignoreFocusOut: true,
      validateInput: (value) => (value.trim().split('.').length === 3 ? undefined : 'A token has three dot-separated parts (a JWT).'),
    });
    if (!token) return undefined;
    await this.personalTokens.set(relayUrl, token);
    return token.trim();
  }

  /** Runs a session step with a progress notification; a failure becomes an error message, with a hint. */
  private async run<T>(title: string, step: () => Promise<T>): Promise<T | undefined> {
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, step);
    } catch (error) {
      this.log.error(title, error);
      void vscode.window.showErrorMessage(`Tandem: ${describe(error)}`);
      return undefined;
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof RelayApiError) {
    const hints: Record<string, string> = {
      AUTH_TOKEN_EXPIRED: ' Ask for a new one (for a personal token: Tandem: Set Personal Token).',
      AUTH_TOKEN_INVALID: ' Check the token (Tandem: Set Personal Token) or ask for a new invite.',
      SESSION_ENDED: ' Ask the host to start a new one.',
      UNREACHABLE: ' Is the relay running? Check the tandem.relayUrl setting.',
    };
    return `${error.message}.${hints[error.code] ?? ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}

function showNotice(level: NotificationPayload['level'], message: string): Thenable<unknown> {
  if (level === 'error') return vscode.window.showErrorMessage(message);
  if (level === 'warning') return vscode.window.showWarningMessage(message);
  return vscode.window.showInformationMessage(message);
}
