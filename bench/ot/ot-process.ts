import { type ChildProcess, fork } from 'node:child_process';
import { join, resolve } from 'node:path';
import { bundleEntries, stopChild } from '../processes';
import type { FromOtLoadgen, ToOtLoadgen } from './ot-ipc';

/**
 * The OT bench's processes, shared by `run-ot.ts` and the scale-out bench (commits through
 * Redis): the bundles, and the load generator process, one run each.
 */

const children = new Set<ChildProcess>();
// processes.ts ends a bench on SIGINT/SIGTERM through 'exit' and kills the servers; these go too.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Killed with the bench if it is still running then. */
export function trackOtChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

export interface OtBundles {
  sharedbServer: string;
  forwardServer: string;
  loadgen: string;
  dispose(): void;
}

export async function bundleOtProcesses(): Promise<OtBundles> {
  const { files, dispose } = await bundleEntries({
    sharedbServer: join(__dirname, 'sharedb-server.ts'),
    forwardServer: join(__dirname, 'forward-server.ts'),
    loadgen: join(__dirname, 'ot-loadgen.ts'),
  });
  return { ...files, dispose };
}

/** Lines of code, ASCII only (the bench's inserted characters are CJK: no collision). */
export function documentText(chars: number): string {
  const line = 'const value = compute(input, 42); // a line of code with some text\n';
  return line.repeat(Math.ceil(chars / line.length)).slice(0, chars);
}

/** One run in a fresh load generator process: setup (editors connect), go, result. */
export class OtLoadgen {
  private readonly child: ChildProcess;
  private readonly messages: FromOtLoadgen[] = [];
  private wake: (() => void) | undefined;
  private exited: string | undefined;

  constructor(bundlePath: string) {
    // BENCH_LOADGEN_PROF=dir writes a CPU profile of each load generator there.
    const prof = process.env.BENCH_LOADGEN_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_LOADGEN_PROF)}`] : [];
    this.child = fork(bundlePath, [], { execArgv: prof, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(this.child);
    this.child.on('message', (message: FromOtLoadgen) => {
      this.messages.push(message);
      this.wake?.();
    });
    this.child.once('exit', (code, signal) => {
      children.delete(this.child);
      this.exited = `load generator exited (${signal ?? code})`;
      this.wake?.();
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  send(message: ToOtLoadgen): void {
    this.child.send(message);
  }

  async next<T extends FromOtLoadgen['type']>(type: T, timeoutMs: number): Promise<Extract<FromOtLoadgen, { type: T }>> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const fatal = this.messages.find((m) => m.type === 'fatal');
      if (fatal?.type === 'fatal') throw new Error(`load generator: ${fatal.message}`);
      const index = this.messages.findIndex((m) => m.type === type);
      if (index >= 0) return this.messages.splice(index, 1)[0] as Extract<FromOtLoadgen, { type: T }>;
      if (this.exited) throw new Error(this.exited);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`load generator: no "${type}" within ${timeoutMs} ms`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, left);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wake = undefined;
    }
  }

  stop(): Promise<void> {
    if (this.child.connected) this.child.disconnect();
    return stopChild(this.child, 2000);
  }
}
