/**
 * A benchmark's entry point: runs `main`, exits 0 when it is done and 1 when it fails or is still
 * running after `deadlineMs` (a bench must never hang; its child processes go with it through
 * their own exit hooks).
 */
export function runBench(name: string, deadlineMs: number, main: () => Promise<void>): void {
  const deadline = setTimeout(() => {
    process.stderr.write(`${name}: gave up after ${deadlineMs / 1000} s\n`);
    process.exit(1);
  }, deadlineMs);
  deadline.unref();
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
