import * as vscode from 'vscode';
import { settings } from '../config';
import type { Log } from '../log';
import { InviteLinkError, parseInviteLink } from '../session/invite-link';
import type { PersonalTokenStore } from '../session/personal-token';
import { RelayApiError } from '../session/relay-api';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import { type CommandId, commandIds } from './command-ids';

/** Registers the session's commands (start, join, end, leave, invites, personal token, menu, log) and the invite links' URI handler. */
export function registerSessionCommands(
  session: SessionController,
  personalTokens: PersonalTokenStore,
  notifier: Notifier,
  log: Log,
): vscode.Disposable {
  const commands = new SessionCommands(session, personalTokens, notifier, log);
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.showLog, () => log.show()),
    vscode.commands.registerCommand(commandIds.startSession, () => commands.start()),
    vscode.commands.registerCommand(commandIds.endSession, () => commands.end()),
    vscode.commands.registerCommand(commandIds.joinSession, (link?: string) => commands.join(link)),
    vscode.commands.registerCommand(commandIds.leaveSession, () => commands.leave()),
    vscode.commands.registerCommand(commandIds.copyInviteLink, (role?: 'editor' | 'viewer') => commands.copyInvite(role)),
    vscode.commands.registerCommand(commandIds.setPersonalToken, (token?: string) => commands.setPersonalToken(token)),
    vscode.commands.registerCommand(commandIds.forgetPersonalToken, () => commands.forgetPersonalToken()),
    vscode.commands.registerCommand(commandIds.showSessionMenu, () => commands.menu()),
    // vscode://tandem.tandem/join?relay=...&invite=... (the relay's invite links)
    vscode.window.registerUriHandler({ handleUri: (uri) => commands.join(uri.toString(true)) }),
  );
}

/** The commands' user-facing side: prompts, progress, clipboard, and errors said plainly. */
class SessionCommands {
  constructor(
    private readonly session: SessionController,
    private readonly personalTokens: PersonalTokenStore,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {}

  async start(): Promise<void> {
    const { relayUrl, sessionTtlHours, requireApproval } = settings();
    let token = await this.personalTokens.get(relayUrl);
    if (!token) {
      token = await this.askPersonalToken(relayUrl);
      if (!token) return;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const info = await this.run('Starting a Tandem session…', async () => {
      const started = await this.session.host(relayUrl, token, { name: folder?.name, ttlHours: sessionTtlHours, requireApproval });
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
    // Cancellable: with an invite that needs the host's approval, this waits for the host.
    await this.run(
      'Joining the Tandem session…',
      async (progress, cancelled) => {
        const abort = new AbortController();
        const subscription = cancelled.onCancellationRequested(() => abort.abort());
        try {
          const joined = await this.session.join(invite, settings().displayName, {
            signal: abort.signal,
            onWaiting: () => progress.report({ message: 'waiting for the host to admit you' }),
          });
          if (joined) await this.session.whenLive();
        } finally {
          subscription.dispose();
        }
      },
      true,
    );
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

  /** The status bar item's menu: what can be done in the current state. */
  async menu(): Promise<void> {
    const { state, info } = this.session;
    const items: Array<vscode.QuickPickItem & { command: CommandId; args?: unknown[] }> = [];
    if (!this.session.isActive) {
      items.push(
        { label: '$(broadcast) Start Session', command: commandIds.startSession },
        { label: '$(plug) Join Session', command: commandIds.joinSession },
      );
    } else if (info?.role === 'host') {
      items.push(
        { label: '$(link) Copy Editor Invite Link', command: commandIds.copyInviteLink, args: ['editor'] },
        { label: '$(eye) Copy Viewer Invite Link', command: commandIds.copyInviteLink, args: ['viewer'] },
        { label: '$(refresh) Renew Invite Links', command: commandIds.renewInviteLinks },
        { label: '$(debug-stop) End Session', command: commandIds.endSession },
      );
    } else {
      items.push({ label: '$(debug-disconnect) Leave Session', command: commandIds.leaveSession });
    }
    items.push({ label: '$(output) Show Log', command: commandIds.showLog });
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
  private async run<T>(
    title: string,
    step: (progress: vscode.Progress<{ message?: string }>, cancelled: vscode.CancellationToken) => Promise<T>,
    cancellable = false,
  ): Promise<T | undefined> {
    try {
      return await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable }, step);
    } catch (error) {
      this.log.error(title, error);
      this.notifier.show('error', `Tandem: ${describe(error)}`);
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
    // Said to the guest in their words, not the relay's (which names its settings).
    const plain: Record<string, string> = {
      JOIN_DENIED: 'the host denied your request to join the session.',
      JOIN_REQUEST_EXPIRED: 'the host did not admit you in time. Open the invite link again to ask again.',
    };
    if (plain[error.code]) return plain[error.code]!;
    return `${error.message.replace(/\.$/, '')}.${hints[error.code] ?? ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
