/**
 * Polls until `condition` holds, failing after `timeoutMs` with `what()` (evaluated then, so it
 * can describe the state at the timeout). The one wait of the extension-host suites.
 */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  what: () => string,
  timeoutMs = 20_000,
  intervalMs = 25,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
