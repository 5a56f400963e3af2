/**
 * What the host sends when its debugger stops: the stopped thread's stack and the top frame's
 * variables, read through the Debug Adapter Protocol (`stackTrace`, `scopes`, `variables`) and cut
 * to the wire's bounds (frames, variables, value length) and to the relay's DEBUG_MAX_STATE_BYTES.
 */
import * as vscode from 'vscode';
import {
  MAX_STACK_FRAMES,
  MAX_VARIABLE_VALUE_LENGTH,
  MAX_VARIABLES,
  type StackFrame,
  type StopReason,
  type StoppedPayload,
  type Variable,
} from '../../protocol';

/** Under the relay's default DEBUG_MAX_STATE_BYTES (64 KiB), with room for the envelope. */
const MAX_STATE_BYTES = 60 * 1024;
const MAX_NAME = 500;

/** A `stopped` event's body, as the Debug Adapter Protocol has it. */
export interface DapStopped {
  reason?: string;
  description?: string;
  threadId?: number;
}

interface DapFrame {
  id: number;
  name: string;
  line: number;
  column: number;
  source?: { path?: string };
}

export async function captureStopped(
  session: vscode.DebugSession,
  event: DapStopped,
  threadId: number,
  documentIdOf: (uri: vscode.Uri) => Promise<string | undefined>,
): Promise<StoppedPayload> {
  const trace = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: MAX_STACK_FRAMES })) as {
    stackFrames?: DapFrame[];
    totalFrames?: number;
  };
  const dapFrames = (trace.stackFrames ?? []).slice(0, MAX_STACK_FRAMES);
  const frames: StackFrame[] = [];
  for (const frame of dapFrames) {
    const document = frame.source?.path ? await documentIdOf(uriOfSource(frame.source.path)) : undefined;
    frames.push({
      name: frame.name.slice(0, MAX_NAME),
      ...(document !== undefined && { document }),
      // The Debug Adapter Protocol counts from 1 (VS Code asks adapters for that); the wire from 0.
      line: Math.max(0, frame.line - 1),
      column: Math.max(0, frame.column - 1),
    });
  }
  const variables = dapFrames[0] ? await topVariables(session, dapFrames[0].id) : [];
  const top = frames[0];
  const payload: StoppedPayload = {
    thread_id: threadId,
    reason: stopReason(event.reason),
    ...(event.description && { description: event.description.slice(0, 1000) }),
    location: top?.document !== undefined ? { document: top.document, line: top.line, column: top.column } : null,
    frames,
    ...(trace.totalFrames !== undefined && trace.totalFrames > frames.length && { total_frames: trace.totalFrames }),
    variables,
  };
  return fit(payload);
}

async function topVariables(session: vscode.DebugSession, frameId: number): Promise<Variable[]> {
  try {
    const { scopes } = (await session.customRequest('scopes', { frameId })) as { scopes?: Array<{ variablesReference: number }> };
    const first = scopes?.[0];
    if (!first || first.variablesReference === 0) return [];
    const { variables } = (await session.customRequest('variables', { variablesReference: first.variablesReference })) as {
      variables?: Array<{ name: string; value: string; type?: string }>;
    };
    return (variables ?? []).slice(0, MAX_VARIABLES).map((v) => ({
      name: v.name.slice(0, MAX_NAME),
      value: v.value.length > MAX_VARIABLE_VALUE_LENGTH ? `${v.value.slice(0, MAX_VARIABLE_VALUE_LENGTH - 1)}…` : v.value,
      ...(v.type && { type: v.type.slice(0, MAX_NAME) }),
    }));
  } catch {
    // It ran on meanwhile, or the adapter has no variables here: the stack is still worth sending.
    return [];
  }
}

/** Drops variables, then frames from the bottom, until the state fits the relay's bound. */
function fit(payload: StoppedPayload): StoppedPayload {
  const size = () => new TextEncoder().encode(JSON.stringify(payload)).length;
  while (size() > MAX_STATE_BYTES && payload.variables.length > 0) payload = { ...payload, variables: payload.variables.slice(0, -1) };
  while (size() > MAX_STATE_BYTES && payload.frames.length > 1) {
    payload = { ...payload, frames: payload.frames.slice(0, -1), total_frames: payload.total_frames ?? payload.frames.length };
  }
  return payload;
}

/**
 * A DAP source path as a URI: a plain path, or a URI. In a remote window (code-server, SSH) the
 * JavaScript debugger names the remote's files `vscode-remote://<authority>/<path>`: that path is
 * this extension host's file.
 */
function uriOfSource(path: string): vscode.Uri {
  if (!/^[a-z][a-z0-9+.-]+:\/\//i.test(path)) return vscode.Uri.file(path);
  const uri = vscode.Uri.parse(path);
  return uri.scheme === 'vscode-remote' ? vscode.Uri.file(uri.path) : uri;
}

const reasons: Record<string, StopReason> = {
  breakpoint: 'breakpoint',
  step: 'step',
  exception: 'exception',
  pause: 'pause',
  entry: 'entry',
  goto: 'goto',
  'function breakpoint': 'function_breakpoint',
  'data breakpoint': 'data_breakpoint',
  'instruction breakpoint': 'instruction_breakpoint',
};

export function stopReason(reason: string | undefined): StopReason {
  return (reason && reasons[reason]) || 'other';
}
