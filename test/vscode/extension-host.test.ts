/**
 * Runs the mocha suites of test/extension-host/ inside a real VS Code: code-server (installed by
 * scripts/install-code-server.mjs) with this repo as the development extension, its workbench
 * opened in headless Chromium. Each mocha test is reported as a subtest of its own.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Browser } from 'playwright-core';
import { type ExtensionTestResult, type ExtensionTestResults, RESULTS_ENV } from '../extension-host/results';
import { ARTIFACTS_DIR, type AutomationPage, launchChromium, openAutomationPage, screenshot } from '../support/browser';
import { type CodeServer, codeServerEntry, startCodeServer, workbenchUrl } from '../support/code-server';
import { within } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
/** Name of this test's files in test-artifacts/ (a screenshot and the logs, on failure only). */
const ARTIFACT = 'vscode-extension-host';

// Bounded everywhere, sized for a busy 2-core machine (a quiet one needs a fraction of each).
const BUILD_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 60_000;
/** From opening the workbench to `codeAutomationExit`: load, extension host start, all suites. */
const RUN_TIMEOUT_MS = 300_000;
const OVERALL_TIMEOUT_MS = 420_000;

/** Runs `node SCRIPT` in the repo; rejects with its output when it fails or overruns. */
async function runNode(script: string): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, script)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  try {
    const code = await within(exited, BUILD_TIMEOUT_MS, `node ${script}`);
    if (code !== 0) throw new Error(`node ${script} exited with ${code}:\n${output}`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

function readResults(path: string): ExtensionTestResults | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ExtensionTestResults;
  } catch {
    return undefined;
  }
}

/** The mocha failure as an Error node:test prints well (its message, then the host's frames). */
function rebuildError(result: ExtensionTestResult): Error {
  const message = result.error?.message ?? 'failed without an error';
  const error = new Error(message);
  // VS Code's extension host indents frames with a tab; Node's inspect only recognises a stack
  // (and does not bracket it) with the usual four spaces.
  const frames = (result.error?.stack ?? '')
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .map((line) => `    ${line.trim()}`);
  error.stack = [`${result.error?.name ?? 'Error'}: ${message}`, ...frames].join('\n');
  return error;
}

/**
 * Everything that helps with a failure: on stderr (the spec reporter shows it with the file) and
 * in test-artifacts/ next to the screenshot, for CI to keep.
 */
function reportFailure(server: CodeServer | undefined, automation: AutomationPage | undefined, screenshotPath: string | undefined): void {
  const sections = [
    ['code-server log', server?.log()],
    ['workbench automation log (codeAutomationLog)', automation?.automationLog.join('\n')],
    ['workbench console', automation?.consoleLog.join('\n')],
  ] as const;
  const report = sections.map(([title, text]) => (text ? `\n--- ${title} ---\n${text}\n` : '')).join('');
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  writeFileSync(join(ARTIFACTS_DIR, `${ARTIFACT}.log`), report);
  process.stderr.write(report);
  process.stderr.write(`\n--- artifacts: ${join(ARTIFACTS_DIR, `${ARTIFACT}.log`)}${screenshotPath ? `, ${screenshotPath}` : ''}\n`);
}

test('extension-host tests in code-server', { timeout: OVERALL_TIMEOUT_MS }, async (t: TestContext) => {
  // Fails at once, naming the install command, rather than after the builds.
  codeServerEntry();
  // Artifacts of an earlier failed run would pass for this run's.
  for (const ext of ['png', 'log']) rmSync(join(ARTIFACTS_DIR, `${ARTIFACT}.${ext}`), { force: true });
  await Promise.all([runNode('scripts/build.mjs'), runNode('scripts/build-extension-tests.mjs')]);

  const temp = mkdtempSync(join(tmpdir(), 'tandem-vscode-test-'));
  const workspace = join(temp, 'workspace');
  const resultsPath = join(temp, 'results.json');
  mkdirSync(workspace);
  writeFileSync(join(workspace, 'README.md'), '# workspace for the extension-host tests\n');

  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let automation: AutomationPage | undefined;
  let failed = true;
  try {
    server = await startCodeServer({ folder: workspace, env: { [RESULTS_ENV]: resultsPath }, startTimeoutMs: START_TIMEOUT_MS });
    browser = await launchChromium();
    const url = workbenchUrl(server, {
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out', 'test', 'extension-host', 'index'),
    });
    automation = await openAutomationPage(browser, url);
    // On a timeout or crash, still report the mocha tests that did finish, then the reason.
    const exit = await within(automation.exit, RUN_TIMEOUT_MS, 'the workbench to report codeAutomationExit').then(
      (code) => ({ code }),
      (error: unknown) => ({ error }),
    );
    const results = readResults(resultsPath);
    if (results) {
      t.diagnostic(
        `VS Code ${results.host.vscode} (${results.host.appHost}), extension host pid ${results.host.pid} on Node ${results.host.node}`,
      );
      for (const result of results.tests) {
        await t.test(result.titlePath.join(' > '), (sub) => {
          if (result.state === 'pending') return sub.skip('pending in mocha');
          if (result.state === 'failed') throw rebuildError(result);
        });
      }
    }
    if ('error' in exit) throw exit.error;
    assert.ok(results, `the extension host wrote no results to ${resultsPath} (${RESULTS_ENV} did not reach it, or run() never started)`);
    const during = results.running ? ` during "${results.running.join(' > ')}"` : '';
    assert.ok(results.finished, `mocha did not finish: the extension host died or hung${during}`);
    assert.ok(results.tests.length > 0, 'mocha ran no tests');
    assert.equal(exit.code, 0, `the extension tests exited with ${exit.code}`);
    failed = false;
  } finally {
    const shot = failed && automation ? await screenshot(automation.page, ARTIFACT) : undefined;
    if (failed) reportFailure(server, automation, shot);
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(temp, { recursive: true, force: true });
  }
});
