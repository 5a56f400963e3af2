import * as vscode from 'vscode';
import type { DebugControlAction } from '../../protocol';
import type { Debugging } from '../debugging/debugging';
import type { ControlOutcome } from '../debugging/guest-control';
import { commandIds } from './command-ids';

/** A guest's Continue / Step Over / Step Into / Step Out / Pause of the host's debugger (they resolve to the host's answer). */
export function registerDebugCommands(debugging: Debugging): vscode.Disposable {
  const run = (action: DebugControlAction) => async (): Promise<ControlOutcome> => {
    const outcome = await debugging.control.request(action);
    if (!outcome.ok) void vscode.window.showWarningMessage(`Tandem: ${outcome.message ?? 'the host refused'}`);
    return outcome;
  };
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.debugContinue, run('continue')),
    vscode.commands.registerCommand(commandIds.debugStepOver, run('step_over')),
    vscode.commands.registerCommand(commandIds.debugStepInto, run('step_in')),
    vscode.commands.registerCommand(commandIds.debugStepOut, run('step_out')),
    vscode.commands.registerCommand(commandIds.debugPause, run('pause')),
  );
}
