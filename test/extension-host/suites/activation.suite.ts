/** The extension as VS Code sees it: installed from the development path, activating, its commands. */
import assert from 'node:assert/strict';
import { suite, test } from 'mocha';
import * as vscode from 'vscode';
import { eventually } from '../support/eventually';

/** `publisher.name` from package.json. */
const EXTENSION_ID = 'tandem.tandem';

function tandem(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed; installed: ${vscode.extensions.all.map((e) => e.id).join(', ')}`);
  return extension;
}

suite('activation', () => {
  test('the extension is loaded from the development path', () => {
    const extension = tandem();
    assert.equal(extension.packageJSON.name, 'tandem');
    assert.equal(extension.packageJSON.publisher, 'tandem');
  });

  test('it activates', async () => {
    const extension = tandem();
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  test('tandem.showLog is registered', async () => {
    // `true` leaves out internal commands (those starting with `_`).
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('tandem.showLog'), 'tandem.showLog is not among the registered commands');
  });

  test('tandem.showLog shows the Tandem output channel', async () => {
    await vscode.commands.executeCommand('tandem.showLog');
    // The output view shows a channel by opening it as a document of the `output` scheme, whose
    // text arrives a moment later: the activation line appearing in it is what the user sees.
    const channel = () => vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'output' && d.uri.path.endsWith('Tandem'));
    await eventually(
      () => /Tandem activated/.test(channel()?.getText() ?? ''),
      () => `the Tandem output channel to show "Tandem activated"; it shows ${JSON.stringify(channel()?.getText())}`,
    );
  });
});
