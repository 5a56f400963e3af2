import * as vscode from 'vscode';
import type { SharedUndo } from '../collab/shared-undo';
import { commandIds } from './command-ids';

/** Registers undo and redo of the user's own edits in a shared editor (the keybindings' targets, see `SharedUndo`). */
export function registerUndoCommands(undo: SharedUndo): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.undo, () => undo.run('undo')),
    vscode.commands.registerCommand(commandIds.redo, () => undo.run('redo')),
  );
}
