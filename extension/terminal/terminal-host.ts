import { basename } from 'node:path';
import * as vscode from 'vscode';
import { type Participant, TERMINAL_LIMITS, type TerminalInputOut, type TerminalRequestOut } from '../../protocol';
import type { RelayClient } from '../../protocol/client';
import { HostTerminal } from './host-terminal';
import { mayType } from './input-permission';
import { jsonBytes } from './output-coalescer';
import { scrollbackFrames } from './scrollback-buffer';
import { defaultShell } from './shell-process';

/** The JSON size of one scrollback frame's data: well under any frame limit. */
const SCROLLBACK_FRAME_BYTES = 16 * 1024;
/** How often a refused guest is sent the list again (its view of the grant was stale). */
const REFUSAL_REPLY_MS = 5000;

export interface TerminalHostOptions {
  cwd: string | undefined;
  scrollbackChars: number;
  participants: () => readonly Participant[];
  log: { info(message: string): void; warn(message: string): void };
}

/**
 * The host's side of shared terminals in one session: shares terminals, answers guests'
 * requests (the list, scrollback) and decides on every guest keystroke from its own state
 * (`mayType`). Disposing it (the session ended) stops every share; the host's terminals stay open.
 */
export class TerminalHost implements vscode.Disposable {
  private readonly terminals = new Map<string, HostTerminal>();
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** A terminal was shared or stopped, or its grant changed. */
  readonly onDidChange = this.changed.event;
  private readonly refusedAt = new Map<string, number>();
  private counter = 0;
  private disposed = false;
  /** Guest input refused so far (for the log and tests). */
  refusals = 0;

  constructor(
    private readonly client: RelayClient,
    private readonly options: TerminalHostOptions,
  ) {
    this.subscriptions.push(
      client.on('terminal.request', (request) => this.answer(request)),
      client.on('terminal.input', (input, frame) => this.input(input, frame.user_id)),
      // After a reconnect guests may have missed a change: everyone gets the list again.
      client.onConnected(() => this.announce()),
    );
  }

  get shared(): HostTerminal[] {
    return [...this.terminals.values()];
  }

  /** Opens a new terminal on a shell and shares it, read-only for guests. */
  share(name?: string): HostTerminal {
    if (this.terminals.size >= TERMINAL_LIMITS.terminals)
      throw new Error(`at most ${TERMINAL_LIMITS.terminals} terminals can be shared at once`);
    const id = `t${Date.now().toString(36)}-${(++this.counter).toString(36)}`;
    const terminal: HostTerminal = new HostTerminal({
      id,
      name: (name ?? basename(defaultShell())).slice(0, 100) || 'shell',
      cwd: this.options.cwd,
      scrollbackChars: this.options.scrollbackChars,
      log: (message) => this.options.log.info(message),
      onPiece: (piece) => void this.client.send('terminal.output', { terminal_id: id, seq: piece.seq, data: piece.data }),
      onEnd: (exitCode, exited) => this.ended(terminal, exitCode, exited),
    });
    this.terminals.set(id, terminal);
    this.announce();
    return terminal;
  }

  setGuestsCanType(terminal: HostTerminal, value: boolean): void {
    if (!this.terminals.has(terminal.id) || terminal.guestsCanType === value) return;
    terminal.guestsCanType = value;
    this.options.log.info(`shared terminal ${terminal.id}: ${value ? 'editors may type' : 'read-only for guests'}`);
    this.announce();
  }

  /** Stops sharing `terminal`: guests' copies close; the host's terminal goes on. */
  stop(terminal: HostTerminal): void {
    if (!this.terminals.delete(terminal.id)) return;
    terminal.stopSharing();
    this.client.send('terminal.closed', { terminal_id: terminal.id, reason: 'stopped' });
    this.announce();
  }

  private ended(terminal: HostTerminal, exitCode: number | undefined, exited: boolean): void {
    if (this.disposed || !this.terminals.delete(terminal.id)) return;
    this.client.send('terminal.closed', {
      terminal_id: terminal.id,
      reason: exited ? 'exited' : 'stopped',
      ...(exited && exitCode !== undefined && { exit_code: exitCode }),
    });
    this.announce();
  }

  private announce(): void {
    if (this.disposed) return;
    this.client.send('terminal.shared', { terminals: this.shared.map((t) => t.describe()) });
    this.changed.fire();
  }

  private answer(request: TerminalRequestOut): void {
    const { requester, request_id } = request;
    if (request.terminal_id === undefined) {
      this.client.send('terminal.shared', { terminals: this.shared.map((t) => t.describe()), requester });
      return;
    }
    const terminal = this.terminals.get(request.terminal_id);
    if (!terminal) {
      // Gone meanwhile: the list tells the guest so.
      this.client.send('terminal.shared', { terminals: this.shared.map((t) => t.describe()), requester });
      return;
    }
    const catchup = terminal.scrollback.since(request.since_seq ?? 0);
    for (const frame of scrollbackFrames(catchup, SCROLLBACK_FRAME_BYTES, jsonBytes))
      this.client.send('terminal.scrollback', { request_id, requester, terminal_id: terminal.id, ...frame });
  }

  private input(input: TerminalInputOut, userId: string): void {
    const terminal = this.terminals.get(input.terminal_id);
    const verdict = mayType(terminal, this.options.participants(), { connectionId: input.sender, userId });
    if (verdict === 'allowed') return terminal!.writeFromGuest(input.data);
    this.refusals++;
    const key = `${input.sender} ${input.terminal_id}`;
    const last = this.refusedAt.get(key) ?? 0;
    if (Date.now() - last < REFUSAL_REPLY_MS) return;
    this.refusedAt.set(key, Date.now());
    this.options.log.warn(`refused terminal input from ${userId} (${input.sender}) for ${input.terminal_id}: ${verdict}`);
    // The guest's view was stale (or it is not our extension): it gets the state as the host has it.
    this.client.send('terminal.shared', { terminals: this.shared.map((t) => t.describe()), requester: input.sender });
  }

  /** The session ended (or this window is no longer its host): every share stops. */
  dispose(): void {
    if (this.disposed) return;
    for (const terminal of this.terminals.values()) {
      terminal.stopSharing();
      this.client.send('terminal.closed', { terminal_id: terminal.id, reason: 'stopped' });
    }
    this.disposed = true;
    this.terminals.clear();
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.changed.fire();
    this.changed.dispose();
  }
}
