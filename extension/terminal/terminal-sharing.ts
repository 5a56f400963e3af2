/**
 * Shared terminals, wired to the session: as host, the `TerminalHost` (shares, grants, the guests'
 * requests and input) and a status bar item while guests may type; as guest, the host's terminals
 * (`GuestTerminals`). A new session (or a new role) starts afresh; the end of the session stops
 * every share and closes the guests' terminals.
 */
import * as vscode from 'vscode';
import type { RelayClient } from '../../protocol/client';
import { commandIds } from '../commands/command-ids';
import { settings } from '../config';
import type { Log } from '../log';
import type { SessionController } from '../session/session-controller';
import type { Notifier } from '../ui/notifier';
import type { WorkspaceSharing } from '../workspace/workspace-sharing';
import { GuestTerminals } from './guest-terminals';
import { TerminalHost } from './terminal-host';

export class TerminalSharing implements vscode.Disposable {
  /** Host: the current session's shares. */
  host: TerminalHost | undefined;
  /** Guest: the host's terminals in this window. */
  guest: GuestTerminals | undefined;
  private client: RelayClient | undefined;
  private readonly grantItem = vscode.window.createStatusBarItem('tandem.terminalGrant', vscode.StatusBarAlignment.Left, 99);
  private readonly listener: vscode.Disposable;
  private partListener: vscode.Disposable | undefined;

  constructor(
    private readonly session: SessionController,
    private readonly sharing: WorkspaceSharing,
    private readonly notifier: Notifier,
    private readonly log: Log,
  ) {
    this.grantItem.name = 'Tandem: shared terminal';
    this.grantItem.command = commandIds.revokeTerminalInput;
    this.grantItem.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
    this.listener = session.onDidChange(() => this.update());
    this.update();
  }

  /** What the status bar shows while guests may type (empty when hidden; for tests). */
  get grantText(): string {
    return this.host?.shared.some((t) => t.guestsCanType) ? this.grantItem.text : '';
  }

  private update(): void {
    const { client, info, isActive } = this.session;
    const role = info?.role === 'host' ? 'host' : 'guest';
    if (isActive && client && info && this.client === client && (role === 'host') === (this.host !== undefined)) {
      this.guest?.refresh();
      return;
    }
    this.stop();
    if (!isActive || !client || !info) return;
    this.client = client;
    if (role === 'host') {
      const root = this.sharing.hostSharedFolder?.root ?? vscode.workspace.workspaceFolders?.[0]?.uri;
      const kib = settings().sharedTerminalScrollbackKiB;
      this.host = new TerminalHost(client, {
        cwd: root?.scheme === 'file' ? root.fsPath : undefined,
        scrollbackChars: Math.min(Math.max(Math.round(kib), 4), 1024) * 1024,
        participants: () => this.session.participants,
        log: this.log,
      });
      this.partListener = this.host.onDidChange(() => this.render());
    } else {
      this.guest = new GuestTerminals(client, {
        hostName: () => this.session.participants.find((p) => p.role === 'host')?.display_name ?? 'Host',
        role: () => this.session.info?.role,
        notify: (message) => this.notifier.show('info', message),
      });
    }
    this.render();
  }

  private render(): void {
    const granted = this.host?.shared.filter((t) => t.guestsCanType) ?? [];
    if (granted.length === 0) return void this.grantItem.hide();
    this.grantItem.text = `$(terminal) guests can type${granted.length > 1 ? ` (${granted.length} terminals)` : ''}`;
    this.grantItem.tooltip = `Editors in the Tandem session can type in your shared terminal${granted.length > 1 ? 's' : ''}: ${granted
      .map((t) => t.describe().name)
      .join(', ')}. Click to make ${granted.length > 1 ? 'them' : 'it'} read-only again.`;
    this.grantItem.show();
  }

  private stop(): void {
    this.partListener?.dispose();
    this.partListener = undefined;
    this.host?.dispose();
    this.guest?.dispose();
    this.host = undefined;
    this.guest = undefined;
    this.client = undefined;
    this.render();
  }

  dispose(): void {
    this.listener.dispose();
    this.stop();
    this.grantItem.dispose();
  }
}
