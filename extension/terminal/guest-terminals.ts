import * as vscode from 'vscode';
import { type Role, type SharedTerminal, TERMINAL_LIMITS, type TerminalClosedPayload } from '../../protocol';
import type { RelayClient } from '../../protocol/client';
import { GuestStream, withoutTerminalReports } from './guest-stream';

/** How long a catch-up may take before the live output held meanwhile is written anyway. */
const CATCHUP_TIMEOUT_MS = 10_000;

export interface GuestTerminalsOptions {
  /** The host's display name, for the terminals' names. */
  hostName: () => string;
  /** This window's role now (viewers never type). */
  role: () => Role | undefined;
  /** Tells the user something (a share ended). */
  notify: (message: string) => void;
}

/** One of the host's terminals as this guest sees it: a `Pseudoterminal` fed by the relay. */
class GuestTerminal {
  readonly terminal: vscode.Terminal;
  readonly stream: GuestStream;
  private readonly written = new vscode.EventEmitter<string>();
  private readonly renamed = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<void>();
  private hinted = false;
  private opened = false;
  private early = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Everything written so far (the last 64 KiB; for tests). */
  text = '';

  constructor(
    public info: SharedTerminal,
    private readonly owner: GuestTerminals,
  ) {
    this.stream = new GuestStream((data) => this.write(data));
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.written.event,
      onDidChangeName: this.renamed.event,
      onDidClose: this.closed.event,
      open: () => {
        this.opened = true;
        if (this.early) this.written.fire(this.early);
        this.early = '';
      },
      close: () => owner.forget(this.info.terminal_id),
      handleInput: (data) => owner.typed(this, data),
      // A guest's panel size never resizes the host's shell: lines wrap as the host's do.
      setDimensions: () => undefined,
    };
    this.shownTitle = this.title();
    this.terminal = vscode.window.createTerminal({ name: this.shownTitle, pty, iconPath: new vscode.ThemeIcon('live-share') });
  }

  title(): string {
    return `${this.owner.hostName()}'s ${this.info.name} (${this.owner.canType(this.info) ? 'you can type' : 'read-only'})`;
  }

  private shownTitle = '';

  update(info: SharedTerminal): void {
    const before = this.shownTitle;
    if (info.guests_can_type !== this.info.guests_can_type) this.hinted = false;
    this.info = info;
    this.shownTitle = this.title();
    if (this.shownTitle !== before) this.renamed.fire(this.shownTitle);
  }

  write(data: string): void {
    this.text = (this.text + data).slice(-64 * 1024);
    if (this.opened) this.written.fire(data);
    else this.early = (this.early + data).slice(-1024 * 1024);
  }

  /** Writes the read-only hint once (again after the grant changes). */
  hint(message: string): void {
    if (this.hinted) return;
    this.hinted = true;
    this.write(`\r\n\x1b[33m[Tandem: ${message}]\x1b[0m\r\n`);
  }

  catchUp(client: RelayClient, requestId: string): void {
    const since = this.stream.beginCatchup(requestId);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stream.endCatchup(), CATCHUP_TIMEOUT_MS);
    if (!client.send('terminal.request', { request_id: requestId, terminal_id: this.info.terminal_id, since_seq: since }))
      this.stream.endCatchup();
  }

  close(message: string | undefined): void {
    clearTimeout(this.timer);
    if (message) this.write(`\r\n\x1b[2m[Tandem: ${message}]\x1b[0m\r\n`);
    // Before VS Code opened the pty its close event goes nowhere: the terminal itself is disposed then.
    if (this.opened) this.closed.fire();
    else this.terminal.dispose();
    this.written.dispose();
    this.renamed.dispose();
    this.closed.dispose();
  }
}

/**
 * A guest's side of the host's shared terminals in one session: a terminal per shared one,
 * output in order (live pieces, scrollback on open and after a reconnect), the host's list kept
 * in step, and what the user types sent only when the host let editors type and this window is
 * an editor; otherwise it is dropped here with a one-time hint (and the host would refuse it too).
 */
export class GuestTerminals implements vscode.Disposable {
  private readonly terminals = new Map<string, GuestTerminal>();
  private readonly subscriptions: Array<{ dispose(): void }> = [];
  private counter = 0;
  private readonly changed = new vscode.EventEmitter<void>();
  /** A terminal opened or closed, or its state changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly client: RelayClient,
    private readonly options: GuestTerminalsOptions,
  ) {
    this.subscriptions.push(
      client.on('terminal.shared', (list) => this.reconcile(list.terminals, list.requester !== undefined)),
      client.on('terminal.output', (piece) => {
        const terminal = this.terminals.get(piece.terminal_id);
        if (terminal?.stream.onOutput(piece)) terminal.catchUp(this.client, this.nextId());
      }),
      client.on('terminal.scrollback', (answer) => this.terminals.get(answer.terminal_id)?.stream.onScrollback(answer)),
      client.on('terminal.closed', (closed) => this.closedByHost(closed)),
      client.onConnected(() => this.askForList()),
      client.onProtocolError((error, eventType) => {
        // No host yet: it sends its list when it connects.
        if (eventType === 'terminal.request' && error.code === 'HOST_NOT_CONNECTED')
          for (const t of this.terminals.values()) t.stream.endCatchup();
      }),
    );
    if (client.state === 'open') this.askForList();
  }

  /** The host's terminals this window shows, by id (for tests: `text` is what was written). */
  get shown(): ReadonlyMap<string, { info: SharedTerminal; terminal: vscode.Terminal; text: string }> {
    return this.terminals;
  }

  hostName(): string {
    return this.options.hostName();
  }

  canType(info: SharedTerminal): boolean {
    return info.guests_can_type && this.options.role() === 'editor';
  }

  /** What the user typed into one of the host's terminals. */
  typed(terminal: GuestTerminal, keys: string): void {
    const data = withoutTerminalReports(keys);
    if (data.length === 0) return;
    if (this.options.role() !== 'editor') return terminal.hint('viewers cannot type in the host’s terminal');
    if (!terminal.info.guests_can_type) return terminal.hint('read-only: the host has not let guests type in this terminal');
    for (let start = 0; start < data.length; start += TERMINAL_LIMITS.inputChars)
      this.client.send('terminal.input', {
        terminal_id: terminal.info.terminal_id,
        data: data.slice(start, start + TERMINAL_LIMITS.inputChars),
      });
  }

  /** This window's role or the host's name changed: the names follow. */
  refresh(): void {
    for (const terminal of this.terminals.values()) terminal.update(terminal.info);
  }

  /** The user closed a guest terminal: it stays closed until the host shares it again (or this window reconnects). */
  forget(id: string): void {
    const terminal = this.terminals.get(id);
    if (!terminal) return;
    this.terminals.delete(id);
    terminal.close(undefined);
    this.changed.fire();
  }

  private askForList(): void {
    this.client.send('terminal.request', { request_id: this.nextId() });
  }

  private nextId(): string {
    return `term-${Date.now().toString(36)}-${(++this.counter).toString(36)}`;
  }

  /** The host's list: open what is new (with its scrollback), rename what changed, close what is gone. */
  private reconcile(list: readonly SharedTerminal[], answer: boolean): void {
    const ids = new Set(list.map((t) => t.terminal_id));
    for (const [id, terminal] of this.terminals)
      if (!ids.has(id)) {
        this.terminals.delete(id);
        terminal.close(`${this.hostName()} stopped sharing this terminal`);
      }
    for (const info of list) {
      const known = this.terminals.get(info.terminal_id);
      if (known) {
        known.update(info);
        // After a reconnect: what this window missed meanwhile.
        if (answer && !known.stream.catchingUp) known.catchUp(this.client, this.nextId());
        continue;
      }
      const terminal = new GuestTerminal(info, this);
      this.terminals.set(info.terminal_id, terminal);
      terminal.terminal.show(true);
      terminal.catchUp(this.client, this.nextId());
    }
    this.changed.fire();
  }

  private closedByHost(closed: TerminalClosedPayload): void {
    const terminal = this.terminals.get(closed.terminal_id);
    if (!terminal) return;
    this.terminals.delete(closed.terminal_id);
    const why =
      closed.reason === 'exited'
        ? `the shell of ${this.hostName()}'s terminal exited${closed.exit_code === undefined ? '' : ` (code ${closed.exit_code})`}`
        : `${this.hostName()} stopped sharing the terminal "${terminal.info.name}"`;
    terminal.close(why);
    this.options.notify(`Tandem: ${why}.`);
    this.changed.fire();
  }

  /** The session ended or this window left: every guest terminal closes. */
  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    const had = this.terminals.size > 0;
    for (const terminal of this.terminals.values()) terminal.close('the session ended');
    this.terminals.clear();
    if (had) this.options.notify('Tandem: the session ended; the host’s shared terminals were closed.');
    this.changed.fire();
    this.changed.dispose();
  }
}
