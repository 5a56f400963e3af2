/**
 * What the extension-host test entry (index.ts) writes for the outer node:test runner
 * (test/vscode/extension-host.test.ts): one record per mocha test, so CI names each one.
 * No `vscode` or mocha import here: both sides share it.
 */

/** Environment variable naming the results file; the extension host inherits code-server's env. */
export const RESULTS_ENV = 'TANDEM_EXTENSION_TEST_RESULTS';

export interface ExtensionTestResult {
  /** Titles from the outermost suite down to the test (or hook). */
  titlePath: string[];
  /** Bundled suite file the test came from. */
  file: string | undefined;
  state: 'passed' | 'failed' | 'pending';
  durationMs: number | undefined;
  error?: { name: string; message: string; stack?: string; actual?: string; expected?: string };
}

export interface ExtensionTestResults {
  /** False until mocha's run ended: a missing `true` means the host died or hung mid-run. */
  finished: boolean;
  /** Extension-host facts, checked by the outer test (e.g. that this env really arrived). */
  host: { pid: number; node: string; vscode: string; appHost: string };
  /** Title path of the test in progress (undefined between tests): names the culprit of a crash. */
  running?: string[];
  tests: ExtensionTestResult[];
}
