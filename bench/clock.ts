/**
 * A clock comparable across processes on one machine: CLOCK_MONOTONIC (what `process.hrtime`
 * reads), in ms. `performance.now()` counts from this process's start on the same clock, so the
 * offset is read once and every later reading is a cheap `performance.now()`.
 */
const offset = Number(process.hrtime.bigint()) / 1e6 - performance.now();

export function monotonicMs(): number {
  return offset + performance.now();
}
