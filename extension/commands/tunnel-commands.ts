import * as vscode from 'vscode';
import type { SharedServer } from '../../protocol';
import { validateShare } from '../tunnels/tunnel-host';
import type { SharedServerEntry, TunnelSharing } from '../tunnels/tunnel-sharing';
import type { Notifier } from '../ui/notifier';
import { commandIds } from './command-ids';

/** Share Server's arguments (keybindings, tests): skip its prompts. */
export interface ShareServerArgs {
  port: number;
  name?: string;
}

/** A server named by a view item, its share id, or nothing (then a quick pick). */
type ServerArg = SharedServerEntry | string | undefined;

/** Share Server and Stop Sharing Server (the host's), Open Shared Server (anyone's). */
export function registerTunnelCommands(sharing: TunnelSharing, notifier: Notifier): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.shareServer, (args?: ShareServerArgs) => shareServer(sharing, notifier, args)),
    vscode.commands.registerCommand(commandIds.stopSharingServer, async (arg?: ServerArg) => {
      const host = sharing.host;
      if (!host) {
        notifier.show('info', 'Tandem: only the session’s host shares servers.');
        return false;
      }
      const entry = await pick(sharing, arg, 'Stop sharing which server?');
      return entry ? host.unshare(entry.server.share_id) : false;
    }),
    vscode.commands.registerCommand(commandIds.openSharedServer, async (arg?: ServerArg) => {
      const entry = await pick(sharing, arg, 'Open which shared server?');
      return entry ? sharing.openInBrowser(entry) : undefined;
    }),
  );
}

async function shareServer(sharing: TunnelSharing, notifier: Notifier, args?: ShareServerArgs): Promise<SharedServer | undefined> {
  const host = sharing.host;
  if (!host) {
    notifier.show('info', 'Tandem: start a session as host to share a server.');
    return undefined;
  }
  let port = args?.port;
  if (port === undefined) {
    const answer = await vscode.window.showInputBox({
      title: 'Tandem: Share Server',
      prompt: 'The local port to share with guests (your server on 127.0.0.1)',
      placeHolder: '3000',
      validateInput: (value) => (/^\d+$/.test(value.trim()) ? validateShare(Number(value), 'x', host.servers) : 'A port from 1 to 65535.'),
    });
    if (answer === undefined) return undefined;
    port = Number(answer.trim());
  }
  let name = args?.name;
  if (name === undefined) {
    name = await vscode.window.showInputBox({
      title: 'Tandem: Share Server',
      prompt: 'A name guests see',
      value: `port ${port}`,
      validateInput: (value) => validateShare(port!, value, host.servers),
    });
    if (name === undefined) return undefined;
  }
  const problem = validateShare(port, name, host.servers);
  if (problem) {
    notifier.show('error', `Tandem: ${problem}`);
    return undefined;
  }
  const server = host.share(port, name);
  notifier.show('info', `Tandem: sharing '${server.name}' (127.0.0.1:${server.port}) with the session’s guests.`);
  return server;
}

async function pick(sharing: TunnelSharing, arg: ServerArg, title: string): Promise<SharedServerEntry | undefined> {
  const entries = sharing.entries;
  if (typeof arg === 'object') arg = arg.server.share_id;
  if (typeof arg === 'string') return entries.find((entry) => entry.server.share_id === arg);
  if (entries.length === 0) {
    void vscode.window.showInformationMessage('Tandem: no servers are shared in this session.');
    return undefined;
  }
  if (entries.length === 1) return entries[0];
  const chosen = await vscode.window.showQuickPick(
    entries.map((entry) => ({
      label: entry.server.name,
      description:
        entry.localPort !== undefined && entry.localPort !== entry.server.port
          ? `${entry.server.port} → 127.0.0.1:${entry.localPort}`
          : String(entry.server.port),
      entry,
    })),
    { title },
  );
  return chosen?.entry;
}
