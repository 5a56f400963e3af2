import * as vscode from 'vscode';
import type { FindArgs, SharedSearch } from '../search/shared-search';
import { commandIds } from './command-ids';

/** Go to Shared File and Find in Shared Folder (an argument skips Find's prompts: keybindings, tests). */
export function registerSearchCommands(search: SharedSearch): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.goToSharedFile, () => search.goToFile()),
    vscode.commands.registerCommand(commandIds.findInSharedFolder, (args?: FindArgs) => search.find(args)),
  );
}
