import type { AiAnswers } from '../ai/ai-answers';
import type { HandlerTable } from '../routing/router';
import { aiCancelHandler, aiRequestHandler } from './ai';
import { chatMessageHandler, chatTypingHandler } from './chat';
import { checkHandler, closeHandler, cursorHandler, editHandler, openHandler } from './collaboration';
import type { HandlerContext } from './context';
import type { Debugging } from '../debugging/debugging';
import { breakpointHandler, continuedHandler, controlHandler, controlResultHandler, stoppedHandler } from './debugging';
import { focusHandler } from './session';
import { languageDiagnosticsHandler, languageRequestHandler, languageResponseHandler } from './language';
import { operatorOnlyHandler, pingHandler } from './system';
import { TunnelRouting } from './tunnel';
import type { TunnelLimits } from '../config/config';
import {
  terminalClosedHandler,
  terminalInputHandler,
  terminalOutputHandler,
  terminalRequestHandler,
  terminalScrollbackHandler,
  terminalSharedHandler,
} from './terminal';
import { workspaceChangedHandler, workspaceRequestHandler, workspaceResponseHandler } from './workspace';

export function createHandlers(context: HandlerContext, debugging: Debugging, ai: AiAnswers, tunnels: TunnelLimits): HandlerTable {
  return {
    ...new TunnelRouting(context, tunnels).handlers(),
    'ai.request': aiRequestHandler(ai),
    'ai.cancel': aiCancelHandler(ai),
    'chat.message': chatMessageHandler(context),
    'chat.typing': chatTypingHandler(context),
    'collaboration.open': openHandler(context),
    'collaboration.close': closeHandler(context),
    'collaboration.edit': editHandler(context),
    'collaboration.cursor': cursorHandler(context),
    'collaboration.check': checkHandler(context),
    'debugging.breakpoint': breakpointHandler(debugging),
    'debugging.stopped': stoppedHandler(debugging),
    'debugging.continued': continuedHandler(debugging),
    'debugging.control': controlHandler(context),
    'debugging.control_result': controlResultHandler(context),
    'language.request': languageRequestHandler(context),
    'language.response': languageResponseHandler(context),
    'language.diagnostics': languageDiagnosticsHandler(context),
    'operator.subscribe': operatorOnlyHandler(),
    'operator.unsubscribe': operatorOnlyHandler(),
    'session.focus': focusHandler(context),
    'system.ping': pingHandler(),
    'terminal.shared': terminalSharedHandler(context),
    'terminal.output': terminalOutputHandler(context),
    'terminal.request': terminalRequestHandler(context),
    'terminal.scrollback': terminalScrollbackHandler(context),
    'terminal.input': terminalInputHandler(context),
    'terminal.closed': terminalClosedHandler(context),
    'workspace.request': workspaceRequestHandler(context),
    'workspace.response': workspaceResponseHandler(context),
    'workspace.changed': workspaceChangedHandler(context),
  };
}
