import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** A shell the host's shared terminal runs: a real pseudo-terminal when VS Code's node-pty loads, pipes otherwise. */
export interface ShellProcess {
  readonly kind: 'pty' | 'pipes';
  readonly shell: string;
  onData(listener: (data: string) => void): void;
  onExit(listener: (exitCode: number | undefined) => void): void;
  write(data: string): void;
  resize(cols: number, rows: number): void;
  kill(): void;
}

export interface ShellOptions {
  cwd: string | undefined;
  cols: number;
  rows: number;
  /** VS Code's install folder (`vscode.env.appRoot`), where its node-pty is. */
  appRoot: string;
  shell?: string;
  log?: (message: string) => void;
}

/** The part of node-pty's API used here. */
interface NodePty {
  spawn(
    file: string,
    args: string[],
    options: { name: string; cols: number; rows: number; cwd?: string; env: NodeJS.ProcessEnv },
  ): {
    onData(listener: (data: string) => void): unknown;
    onExit(listener: (event: { exitCode: number; signal?: number }) => void): unknown;
    write(data: string): void;
    resize(cols: number, rows: number): void;
    kill(): void;
  };
}

export function defaultShell(): string {
  if (process.platform === 'win32') return process.env.COMSPEC ?? 'powershell.exe';
  return process.env.SHELL || (existsSync('/bin/bash') ? '/bin/bash' : '/bin/sh');
}

/** VS Code's own node-pty (built for its Node), in `node_modules` or `node_modules.asar`; undefined when neither loads. */
export function loadNodePty(appRoot: string, log?: (message: string) => void): NodePty | undefined {
  for (const folder of ['node_modules', 'node_modules.asar']) {
    const candidate = join(appRoot, folder, 'node-pty');
    try {
      // A path known only at run time: esbuild leaves this require to Node.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const loaded = require(candidate) as Partial<NodePty>;
      if (typeof loaded.spawn === 'function') return loaded as NodePty;
    } catch (error) {
      log?.(`node-pty not loaded from ${candidate}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return undefined;
}

export function startShell(options: ShellOptions): ShellProcess {
  const shell = options.shell ?? defaultShell();
  const pty = loadNodePty(options.appRoot, options.log);
  const env = { ...process.env, TERM: 'xterm-256color', COLORTERM: 'truecolor', TANDEM_SHARED_TERMINAL: '1' };
  if (pty) {
    const child = pty.spawn(shell, [], { name: 'xterm-256color', cols: options.cols, rows: options.rows, cwd: options.cwd, env });
    return {
      kind: 'pty',
      shell,
      onData: (listener) => void child.onData(listener),
      onExit: (listener) => void child.onExit((event) => listener(event.exitCode)),
      write: (data) => child.write(data),
      resize: (cols, rows) => {
        try {
          child.resize(Math.max(1, cols), Math.max(1, rows));
        } catch {
          // The shell has just exited.
        }
      },
      kill: () => {
        try {
          child.kill();
        } catch {
          // Already gone.
        }
      },
    };
  }
  options.log?.('no pseudo-terminal (node-pty did not load): the shared terminal runs its shell over pipes, without line editing');
  return pipeShell(shell, options.cwd, env);
}

/**
 * The fallback: the shell on pipes, interactive (`-i`), with a tiny line discipline of our own
 * (echo, backspace, Enter sends the line, Ctrl-C and Ctrl-D) since no tty does it.
 */
function pipeShell(shell: string, cwd: string | undefined, env: NodeJS.ProcessEnv): ShellProcess {
  const windows = process.platform === 'win32';
  const child = spawn(shell, windows ? [] : ['-i'], { cwd, env, stdio: 'pipe' });
  const out = new StringDecoder('utf8');
  const err = new StringDecoder('utf8');
  const dataListeners: Array<(data: string) => void> = [];
  const emit = (text: string) => {
    const crlf = text.replace(/\r?\n/g, '\r\n');
    for (const listener of dataListeners) listener(crlf);
  };
  child.stdout.on('data', (chunk: Buffer) => emit(out.write(chunk)));
  child.stderr.on('data', (chunk: Buffer) => emit(err.write(chunk)));
  child.on('error', (error) => emit(`${error.message}\n`));
  let line = '';
  return {
    kind: 'pipes',
    shell,
    onData: (listener) => void dataListeners.push(listener),
    onExit: (listener) => void child.on('exit', (code) => listener(code ?? undefined)),
    write: (data) => {
      for (const char of data) {
        if (char === '\r' || char === '\n') {
          emit('\n');
          child.stdin.write(`${line}\n`);
          line = '';
        } else if (char === '\x7f' || char === '\b') {
          if (line.length > 0) {
            line = line.slice(0, -1);
            emit('\b \b');
          }
        } else if (char === '\x03') {
          line = '';
          emit('^C\n');
          child.kill('SIGINT');
        } else if (char === '\x04') {
          if (line === '') child.stdin.end();
        } else if (char >= ' ') {
          line += char;
          emit(char);
        }
      }
    },
    resize: () => undefined,
    kill: () => void child.kill(),
  };
}
