import * as vscode from 'vscode';

/**
 * Entry point of the VS Code extension. Only activation lives here; sessions, commands and
 * views arrive with the pair-programming work and talk to the relay through `protocol/`.
 */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Tandem', { log: true });
  context.subscriptions.push(output, vscode.commands.registerCommand('tandem.showLog', () => output.show()));
  output.info('Tandem activated');
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
