import * as vscode from 'vscode';
import type { AiContext } from '../../protocol';
import type { ChatService } from '../chat/chat-service';
import type { ChatView } from '../chat/chat-view';
import type { FeedbackService } from '../chat/feedback-service';
import type { SharedDocuments } from '../presence/shared-documents';
import type { SessionController } from '../session/session-controller';
import { commandIds } from './command-ids';
import { type QuotedSelection, quoteSelection } from './chat-commands-quote';

/** Open Chat, Send Selection to Chat, Ask AI About Selection, Reconnect, Send Feedback. */
export function registerChatCommands(
  session: SessionController,
  chat: ChatService,
  view: ChatView,
  documents: SharedDocuments,
  feedback: FeedbackService,
): vscode.Disposable {
  return vscode.Disposable.from(
    vscode.commands.registerCommand(commandIds.openChat, () => view.reveal()),
    vscode.commands.registerCommand(commandIds.sendSelectionToChat, async () => {
      const quoted = selectionOf(documents);
      if (!quoted) return void vscode.window.showInformationMessage('Tandem: select some code in an editor first.');
      guard(() => chat.send(quoteSelection(quoted)));
    }),
    vscode.commands.registerCommand(commandIds.askAiAboutSelection, async (prompt?: string) => {
      const quoted = selectionOf(documents);
      const question =
        prompt ??
        (await vscode.window.showInputBox({
          title: 'Tandem: Ask AI',
          prompt: quoted
            ? `About ${quoted.file}:${quoted.lineStart}-${quoted.lineEnd}; everyone in the session sees the answer`
            : 'Everyone in the session sees the answer',
          placeHolder: 'What does this code do?',
          ignoreFocusOut: true,
        }));
      if (!question?.trim()) return;
      const context: AiContext | undefined = quoted && {
        selection: quoted.text,
        file: quoted.file,
        language: quoted.language,
        line_start: quoted.lineStart,
        line_end: quoted.lineEnd,
      };
      if (guard(() => chat.ask(question.trim(), context))) await view.reveal();
    }),
    vscode.commands.registerCommand(commandIds.reconnect, () => session.reconnect()),
    vscode.commands.registerCommand(commandIds.sendFeedback, () => feedback.command()),
  );
}

function guard(run: () => unknown): boolean {
  try {
    run();
    return true;
  } catch (error) {
    void vscode.window.showWarningMessage(`Tandem: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

function selectionOf(documents: SharedDocuments): QuotedSelection | undefined {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.selection.isEmpty) return undefined;
  const { document, selection } = editor;
  // A selection that ends at the start of a line does not take that line.
  const endLine = selection.end.character === 0 && selection.end.line > selection.start.line ? selection.end.line - 1 : selection.end.line;
  const file =
    documents.forTextDocument(document)?.id ??
    (document.uri.scheme === 'tandem' ? document.uri.path.replace(/^\//u, '') : vscode.workspace.asRelativePath(document.uri, false));
  return {
    text: document.getText(selection),
    file,
    language: /^[\w.+#-]{1,64}$/u.test(document.languageId) ? document.languageId : 'plaintext',
    lineStart: selection.start.line + 1,
    lineEnd: endLine + 1,
  };
}
