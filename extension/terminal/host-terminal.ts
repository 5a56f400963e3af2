import * as vscode from 'vscode';
import type { SharedTerminal } from '../../protocol';
import { OutputCoalescer } from './output-coalescer';
import { ScrollbackBuffer, type OutputPiece } from './scrollback-buffer';
import { type ShellProcess, startShell } from './shell-process';

export interface HostTerminalOptions {
  id: string;
  /** The shell's name as the host sees it (`bash`). */
  name: string;
  cwd: string | undefined;
  scrollbackChars: number;
  log: (message: string) => void;
  /** A piece of output for the guests (already coalesced and numbered). */
  onPiece: (piece: OutputPiece) => void;
  /** The shell exited (`exitCode`) or the host closed the terminal (undefined). */
  onEnd: (exitCode: number | undefined, exited: boolean) => void;
}

/**
 * One terminal the host shares: a VS Code terminal (a `Pseudoterminal`) in front of a real shell.
 * The host types into it as into any terminal; its output goes to the host's terminal at once and
 * to the guests coalesced, numbered and kept in a bounded scrollback. Guests never resize it: only
 * the host's terminal panel does.
 */
export class HostTerminal implements vscode.Disposable {
  readonly terminal: vscode.Terminal;
  readonly scrollback: ScrollbackBuffer;
  private shell: ShellProcess | undefined;
  private readonly written = new vscode.EventEmitter<string>();
  private readonly renamed = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number | void>();
  private readonly coalescer: OutputCoalescer;
  private grant = false;
  private sharing = true;
  private ended = false;
  private readonly opened: Promise<void>;

  constructor(private readonly options: HostTerminalOptions) {
    this.scrollback = new ScrollbackBuffer(options.scrollbackChars);
    this.coalescer = new OutputCoalescer((data) => {
      if (this.sharing) options.onPiece(this.scrollback.append(data));
    });
    let markOpen: () => void;
    this.opened = new Promise((resolve) => (markOpen = resolve));
    const pty: vscode.Pseudoterminal = {
      onDidWrite: this.written.event,
      onDidChangeName: this.renamed.event,
      onDidClose: this.closed.event,
      open: (dimensions) => {
        this.start(dimensions);
        markOpen();
      },
      close: () => this.end(undefined, false),
      handleInput: (data) => this.shell?.write(data),
      setDimensions: (dimensions) => this.shell?.resize(dimensions.columns, dimensions.rows),
    };
    this.terminal = vscode.window.createTerminal({ name: this.title(), pty, iconPath: new vscode.ThemeIcon('live-share') });
  }

  get id(): string {
    return this.options.id;
  }

  /** Editors may type into it (the host's grant). */
  get guestsCanType(): boolean {
    return this.grant;
  }

  set guestsCanType(value: boolean) {
    if (this.grant === value || !this.sharing) return;
    this.grant = value;
    this.renamed.fire(this.title());
  }

  get shared(): boolean {
    return this.sharing && !this.ended;
  }

  /** Whether the shell runs in a pseudo-terminal (`pty`) or on pipes. */
  get shellKind(): ShellProcess['kind'] | undefined {
    return this.shell?.kind;
  }

  /** Resolves once VS Code opened the terminal and the shell started. */
  whenOpen(): Promise<void> {
    return this.opened;
  }

  describe(): SharedTerminal {
    return { terminal_id: this.options.id, name: this.options.name, guests_can_type: this.grant };
  }

  /** Input a guest may send (the caller checked who and the grant). */
  writeFromGuest(data: string): void {
    if (this.shared && this.grant) this.shell?.write(data);
  }

  /** Stops sharing; the host's terminal and shell go on, no longer shared. */
  stopSharing(): void {
    if (!this.sharing) return;
    this.coalescer.flush();
    this.sharing = false;
    this.grant = false;
    this.coalescer.dispose();
    if (!this.ended) {
      this.renamed.fire(this.title());
      this.written.fire('\r\n\x1b[2m[Tandem: this terminal is no longer shared]\x1b[0m\r\n');
    }
  }

  private title(): string {
    if (!this.sharing) return this.options.name;
    return `${this.options.name} (shared, ${this.grant ? 'guests can type' : 'read-only for guests'})`;
  }

  private start(dimensions: vscode.TerminalDimensions | undefined): void {
    try {
      this.shell = startShell({
        cwd: this.options.cwd,
        cols: dimensions?.columns ?? 80,
        rows: dimensions?.rows ?? 24,
        appRoot: vscode.env.appRoot,
        log: this.options.log,
      });
    } catch (error) {
      this.written.fire(`Tandem: could not start a shell: ${error instanceof Error ? error.message : String(error)}\r\n`);
      this.end(1, true);
      return;
    }
    this.options.log(
      `shared terminal ${this.options.id}: ${this.shell.shell} on ${this.shell.kind === 'pty' ? 'a pseudo-terminal' : 'pipes'}`,
    );
    this.shell.onData((data) => {
      this.written.fire(data);
      if (this.sharing) this.coalescer.push(data);
    });
    this.shell.onExit((code) => {
      this.end(code, true);
      this.closed.fire(code ?? 0);
    });
  }

  private end(exitCode: number | undefined, exited: boolean): void {
    if (this.ended) return;
    if (this.sharing) this.coalescer.flush();
    this.ended = true;
    this.coalescer.dispose();
    this.shell?.kill();
    this.options.onEnd(exitCode, exited);
  }

  dispose(): void {
    this.sharing = false;
    this.end(undefined, false);
    this.terminal.dispose();
    this.written.dispose();
    this.renamed.dispose();
    this.closed.dispose();
  }
}
