/**
 * Extension-host test entry point (`extensionTestsPath`): VS Code loads this bundle inside the
 * extension host, with the real `vscode` API, and awaits `run()`. It serves both code-server
 * (test/vscode/extension-host.test.ts) and `@vscode/test-electron` where VS Code can be downloaded.
 *
 * Suites use mocha's TDD UI (`suite`/`test`/`setup`..., imported from 'mocha'), one bundle per
 * `*.suite.ts` under suites/ (scripts/build-extension-tests.mjs), found here at run time.
 */
import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import { type ExtensionTestResult, type ExtensionTestResults, RESULTS_ENV } from './results';
import { mapStack } from './source-stack';

// The suites' `import { suite, test } from 'mocha'` resolves to these (see
// scripts/build-extension-tests.mjs): they must reach the Mocha instance bundled here.
export { setup, suite, suiteSetup, suiteTeardown, teardown, test } from 'mocha';

/** Generous: the first test pays for activation, and CI machines are small and shared. */
const TEST_TIMEOUT_MS = 30_000;

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', color: false, timeout: TEST_TIMEOUT_MS, reporter: 'spec' });
  const suitesDir = join(__dirname, 'suites');
  const files = readdirSync(suitesDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.suite.js'))
    // For a developer's inner loop only (CI runs every suite): TANDEM_SUITES=binding,presence
    .filter((file) => !process.env.TANDEM_SUITES || process.env.TANDEM_SUITES.split(',').some((name) => file.includes(name)))
    .sort()
    .map((file) => join(suitesDir, file));
  if (files.length === 0) throw new Error(`no *.suite.js in ${suitesDir}: run node scripts/build-extension-tests.mjs`);
  for (const file of files) mocha.addFile(file);

  const resultsPath = process.env[RESULTS_ENV];
  const results: ExtensionTestResults = {
    finished: false,
    host: { pid: process.pid, node: process.version, vscode: vscode.version, appHost: vscode.env.appHost },
    tests: [],
  };
  // Rewritten after every test (write, then rename: a reader never sees half a file), so a host
  // that dies mid-run still leaves what ran before.
  const save = () => {
    if (!resultsPath) return;
    writeFileSync(`${resultsPath}.tmp`, JSON.stringify(results, null, 2));
    renameSync(`${resultsPath}.tmp`, resultsPath);
  };
  save();

  const record = (runnable: Mocha.Runnable, state: ExtensionTestResult['state'], error?: unknown) => {
    results.running = undefined;
    results.tests.push({
      titlePath: runnable.titlePath(),
      file: runnable.file,
      state,
      durationMs: runnable.duration,
      ...(error === undefined ? {} : { error: describeError(error) }),
    });
    save();
  };

  const failures = await new Promise<number>((resolve, reject) => {
    try {
      const runner = mocha.run((count) => resolve(count));
      runner.on('test', (test) => {
        results.running = test.titlePath();
        save();
      });
      runner.on('pass', (test) => record(test, 'passed'));
      runner.on('pending', (test) => record(test, 'pending'));
      // Also fires for hooks (`before all`...): they are reported as failures of their own.
      runner.on('fail', (runnable, error: unknown) => {
        // Mapped in place, so the spec reporter's summary at the end shows .ts positions too.
        // mocha's own frames go, as its stack filter would drop them were it not bundled here.
        if (error instanceof Error && error.stack) {
          error.stack = mapStack(error.stack, __dirname)
            .split('\n')
            .filter((line) => !/node_modules[\\/]mocha[\\/]/.test(line))
            .join('\n');
        }
        record(runnable, 'failed', error);
      });
    } catch (error) {
      // A suite file that throws while loading lands here: report it like a failed test.
      results.tests.push({
        titlePath: ['loading suites'],
        file: undefined,
        state: 'failed',
        durationMs: undefined,
        error: describeError(error),
      });
      results.finished = true;
      save();
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
  results.finished = true;
  save();
  if (failures > 0) throw new Error(`${failures} extension-host test(s) failed`);
}

function describeError(error: unknown): NonNullable<ExtensionTestResult['error']> {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const { actual, expected } = error as { actual?: unknown; expected?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...('actual' in error ? { actual: show(actual) } : {}),
    ...('expected' in error ? { expected: show(expected) } : {}),
  };
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
