/** The Shared Servers view: the host's shared servers, with where each is on this machine. */
import * as vscode from 'vscode';
import { commandIds } from '../commands/command-ids';
import type { SharedServerEntry, TunnelSharing } from './tunnel-sharing';

export class SharedServersView implements vscode.TreeDataProvider<SharedServerEntry>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly sharing: TunnelSharing) {
    this.subscription = sharing.onDidChange(() => this.changed.fire());
  }

  getChildren(element?: SharedServerEntry): SharedServerEntry[] {
    return element ? [] : this.sharing.entries;
  }

  getTreeItem(entry: SharedServerEntry): vscode.TreeItem {
    const item = new vscode.TreeItem(entry.server.name, vscode.TreeItemCollapsibleState.None);
    const connections = entry.streams === 1 ? '1 connection' : `${entry.streams} connections`;
    if (this.sharing.isHost) {
      item.description = `127.0.0.1:${entry.server.port} · ${connections}`;
      item.tooltip = `You share 127.0.0.1:${entry.server.port} as '${entry.server.name}'. Guests reach it through the relay.`;
      item.contextValue = 'tandem.sharedServer.host';
    } else {
      item.description =
        entry.localPort === undefined
          ? (entry.error ?? 'starting…')
          : `127.0.0.1:${entry.localPort} (host: ${entry.server.port}) · ${connections}`;
      const here = entry.localPort === undefined ? 'not available here' : `here at 127.0.0.1:${entry.localPort}`;
      item.tooltip = `The host's '${entry.server.name}' (its port ${entry.server.port}), ${here}`;
      item.contextValue = 'tandem.sharedServer.guest';
    }
    item.iconPath = new vscode.ThemeIcon('server-process');
    item.command = { command: commandIds.openSharedServer, title: 'Open in Browser', arguments: [entry] };
    return item;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
