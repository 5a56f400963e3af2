import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Debian's Python: `python3` on the PATH may be another one (pyenv) without Debian's modules,
 * such as `python3-websockets` (see notes/machine-facts.md).
 */
export const PYTHON = '/usr/bin/python3';

/**
 * Throws, with what to install, unless /usr/bin/python3 can import the module: a missing
 * dependency fails the test, it never skips it.
 */
export function requirePythonModule(module: string, debianPackage: string): void {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: apt-get install -y python3 ${debianPackage}`);
  const probe = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import ${module} (${probe.stderr.trim().split('\n').at(-1) ?? probe.error?.message}): apt-get install -y ` +
        `${debianPackage}`,
    );
  }
}

/** Runs a Python expression and returns what it prints (stripped). */
export function pythonPrint(expression: string): string {
  const run = spawnSync(PYTHON, ['-c', `print(${expression})`], { encoding: 'utf8', timeout: 10_000 });
  if (run.status !== 0) throw new Error(`python failed: ${run.stderr}`);
  return run.stdout.trim();
}

export interface PythonRun {
  /** Resolves when the process exits (or is killed at the timeout). */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
  kill(): void;
}

/** Runs a Python script unbuffered; kills it after `timeoutMs`. */
export function runPython(script: string, env: Record<string, string>, timeoutMs: number): PythonRun {
  const child = spawn(PYTHON, ['-u', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(kill, timeoutMs);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { done, kill };
}
