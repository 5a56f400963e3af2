import type { Duplex } from 'node:stream';

/**
 * Frames written to one socket within one tick leave together in one `writev` instead of one
 * system call each: under load a session's fan-out sends several frames to every socket per
 * tick, and the system calls, not the JavaScript, are what a relay spends its time on.
 */
const corked: Duplex[] = [];

function uncorkAll(): void {
  for (const stream of corked) stream.uncork();
  corked.length = 0;
}

/** Holds the stream's writes until the end of the current tick. */
export function batchWritesThisTick(stream: Duplex): void {
  if (stream.writableCorked > 0) return;
  stream.cork();
  if (corked.push(stream) === 1) process.nextTick(uncorkAll);
}
