import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNginxTemplate, renderNginxConfig } from '../../relay/cli/cluster/nginx-config';
import { freePort, httpStatus } from '../../relay/cli/cluster/probes';
import { stopChild } from '../processes';

/**
 * nginx in front of the bench's relays, from docker/nginx.conf as `relay deploy` renders it
 * (round robin, no stickiness, a refused connection retried on the next relay), on a free
 * loopback port: the path a reconnecting client takes in production.
 */
export interface Nginx {
  /** `ws://127.0.0.1:PORT/ws` */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<{ child: ChildProcess; dir: string }>();
// SIGTERM, not SIGKILL: the master then takes its workers with it (a killed master leaves them).
process.on('exit', () => {
  for (const { child, dir } of running) {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});

export async function startNginx(relays: string[], timeoutMs = 10_000): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-bench-nginx-'));
  mkdirSync(join(dir, 'tmp'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  const errorLog = join(dir, 'nginx-error.log');
  writeFileSync(conf, renderNginxConfig(readNginxTemplate(), { relays, listen: { host: '127.0.0.1', port }, runDir: dir, logDir: dir }));
  const child = spawn(process.env.NGINX_BIN ?? 'nginx', ['-p', dir, '-c', conf, '-e', errorLog, '-g', 'daemon off;'], { stdio: 'ignore' });
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const entry = { child, dir };
  running.add(entry);
  const stop = async () => {
    await stopChild(child, 3000);
    running.delete(entry);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = performance.now() + timeoutMs;
  while ((await httpStatus(`http://127.0.0.1:${port}/health`, 1000)) !== 200) {
    if (spawnError || child.exitCode !== null || performance.now() > deadline) {
      const log = (() => {
        try {
          return readFileSync(errorLog, 'utf8').slice(-2000);
        } catch {
          return '';
        }
      })();
      await stop();
      throw new Error(`nginx did not serve /health on :${port}${spawnError ? ` (${spawnError.message})` : ''}\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { url: `ws://127.0.0.1:${port}/ws`, pid: child.pid!, stop };
}
