/**
 * Breakpoints between VS Code's `SourceBreakpoint` and the wire's `Breakpoint`: the fields, and
 * whether two of them say the same (what decides that a change is news and not our own echo).
 */
import * as vscode from 'vscode';
import type { Breakpoint } from '../../protocol';

const MAX_EXPRESSION = 1000;

/** The wire form of a local breakpoint in the shared document `document`, as `id`. */
export function toWire(breakpoint: vscode.SourceBreakpoint, id: string, document: string): Breakpoint {
  const { line, character } = breakpoint.location.range.start;
  return {
    id,
    document,
    line,
    ...(character > 0 && { column: character }),
    enabled: breakpoint.enabled,
    ...(breakpoint.condition && { condition: breakpoint.condition.slice(0, MAX_EXPRESSION) }),
    ...(breakpoint.hitCondition && { hit_condition: breakpoint.hitCondition.slice(0, MAX_EXPRESSION) }),
    ...(breakpoint.logMessage && { log_message: breakpoint.logMessage.slice(0, MAX_EXPRESSION) }),
  };
}

/** A new VS Code breakpoint at `uri` for a wire breakpoint (VS Code has no update: a change is a new one). */
export function fromWire(breakpoint: Breakpoint, uri: vscode.Uri): vscode.SourceBreakpoint {
  return new vscode.SourceBreakpoint(
    new vscode.Location(uri, new vscode.Position(breakpoint.line, breakpoint.column ?? 0)),
    breakpoint.enabled,
    breakpoint.condition,
    breakpoint.hit_condition,
    breakpoint.log_message,
  );
}

/** Same place and same settings (ids aside). */
export function sameBreakpoint(a: Breakpoint, b: Breakpoint): boolean {
  return a.document === b.document && a.line === b.line && (a.column ?? 0) === (b.column ?? 0) && sameSettings(a, b);
}

/** Same settings, wherever they are: a difference in place only is a move. */
export function sameSettings(a: Breakpoint, b: Breakpoint): boolean {
  return (
    a.enabled === b.enabled &&
    (a.condition ?? '') === (b.condition ?? '') &&
    (a.hit_condition ?? '') === (b.hit_condition ?? '') &&
    (a.log_message ?? '') === (b.log_message ?? '')
  );
}

/** Whether a breakpoint runs code in the debuggee when it is hit: a condition or a log message (its `{expressions}`). */
export function evaluatesCode(breakpoint: Breakpoint): boolean {
  return Boolean(breakpoint.condition || breakpoint.log_message);
}
