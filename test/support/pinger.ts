/**
 * A bystander in its own process: it connects to a relay, sends `system.ping` every few
 * milliseconds and keeps each round trip. Measuring from the test's own process would add the
 * test's work (an attacker's frames to build and parse) to what is meant to be the relay's
 * latency; this process does nothing else, so what it measures is the relay (and the machine).
 *
 * `startPinger(url)` forks it; `stop()` ends it and returns the figures.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import WebSocket from 'ws';

export interface PingFigures {
  /** Round trips in ms, in the order the pongs came; pings still unanswered at the stop count as their time so far. */
  rtts: number[];
}

export interface Pinger {
  stop(): Promise<PingFigures & { p99: number; max: number }>;
}

type FromPinger = { type: 'ready' } | ({ type: 'figures' } & PingFigures) | { type: 'failed'; message: string };

/** Starts a pinger process on `url` (a WebSocket URL with its token) and waits until it is connected. */
export async function startPinger(url: string, everyMs = 10): Promise<Pinger> {
  const child = fork(__filename, ['pinger', url, String(everyMs)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [first] = (await once(child, 'message')) as [FromPinger];
  if (first.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`the pinger did not connect: ${first.type === 'failed' ? first.message : first.type}`);
  }
  return {
    async stop() {
      const answer = once(child, 'message') as Promise<[FromPinger]>;
      child.send('stop');
      const [figures] = await answer;
      child.kill('SIGKILL');
      if (figures.type !== 'figures') throw new Error('the pinger did not report');
      const sorted = [...figures.rtts].sort((a, b) => a - b);
      return {
        rtts: figures.rtts,
        p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
        max: sorted.at(-1) ?? 0,
      };
    },
  };
}

/** The child's side. */
function runPinger(url: string, everyMs: number): void {
  const send = (message: FromPinger) => process.send!(message);
  const socket = new WebSocket(url);
  const sent = new Map<string, number>();
  const rtts: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let counter = 0;
  socket.on('error', (error) => send({ type: 'failed', message: error.message }));
  socket.on('close', () => clearInterval(timer));
  // The test that started it is gone (it failed before `stop`, or its process ended): so is the
  // pinger. Left running, it would hold the test runner's output pipe open, and the run with it.
  process.on('disconnect', () => process.exit(0));
  socket.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { event_type: string; payload: { nonce?: string } };
    if (frame.event_type === 'connect') {
      timer = setInterval(() => {
        const nonce = `p${++counter}`;
        sent.set(nonce, performance.now());
        socket.send(JSON.stringify({ event_type: 'system.ping', payload: { nonce } }));
      }, everyMs);
      return send({ type: 'ready' });
    }
    const started = frame.event_type === 'system.pong' && frame.payload.nonce !== undefined ? sent.get(frame.payload.nonce) : undefined;
    if (started === undefined) return;
    rtts.push(performance.now() - started);
    sent.delete(frame.payload.nonce!);
  });
  process.on('message', () => {
    clearInterval(timer);
    const now = performance.now();
    send({ type: 'figures', rtts: [...rtts, ...[...sent.values()].map((started) => now - started)] });
  });
}

if (process.argv[2] === 'pinger' && process.send) runPinger(process.argv[3]!, Number(process.argv[4]));
