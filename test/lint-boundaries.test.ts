import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

// The layer boundaries of eslint.config.mjs: relay/ and extension/ meet only through protocol/ and
// reach it only through its entry points; protocol/ imports none of them and nothing runtime-specific.
const root = join(__dirname, '..');
const ruleId = '@typescript-eslint/no-restricted-imports';
// Only the boundary rule, without type information: the snippets are not files of the TypeScript project.
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId: id }) => id === ruleId,
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function boundaryErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, `no lint result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${filePath} did not parse`);
  return result.messages.filter((m) => m.ruleId === ruleId).map((m) => m.message);
}

const refused: [file: string, code: string][] = [
  ['extension/collab/x.ts', "import { apply } from '../../protocol/ot/apply';"],
  ['extension/collab/x.ts', "import type { RelayClient } from '../../protocol/client/relay-client';"],
  ['extension/workspace/x.ts', "import type { FileKind } from '../../protocol/schemas/workspace';"],
  ['extension/x.ts', "import { encodeClientFrame } from '../protocol/codec';"],
  ['extension/x.ts', "import { startRelay } from '../relay/relay';"],
  ['extension/session/x.ts', "export { loadConfig } from '../../relay/config/config';"],
  ['relay/x.ts', "import { activate } from '../extension/extension';"],
  ['relay/gateway/x.ts', "import type { TextOp } from '../../protocol/ot/text-op';"],
  ['relay/ai/x.ts', "import { errorCodes } from '../../protocol/errors';"],
  ['relay/x.ts', "import * as vscode from 'vscode';"],
  ['protocol/x.ts', "import { readFileSync } from 'node:fs';"],
  ['protocol/x.ts', "import { createHash } from 'crypto';"],
  ['protocol/client/x.ts', "import WebSocket from 'ws';"],
  ['protocol/x.ts', "import Redis from 'ioredis';"],
  ['protocol/x.ts', "import * as vscode from 'vscode';"],
  ['protocol/ot/x.ts', "import { startRelay } from '../../relay/relay';"],
  ['protocol/x.ts', "import type { Log } from '../extension/log';"],
  ['electron-dashboard/src/x.ts', "import { startRelay } from '../../relay/relay';"],
  ['electron-dashboard/src/x.ts', "import { RelayClient } from '../../protocol/client/relay-client';"],
  ['electron-dashboard/renderer/x.ts', "import { ipcRenderer } from 'electron';"],
  ['electron-dashboard/renderer/x.ts', "import { readFileSync } from 'node:fs';"],
  ['electron-dashboard/renderer/x.ts', "import { startRelay } from '../../relay/relay';"],
];

const allowed: [file: string, code: string][] = [
  ['extension/collab/x.ts', "import { apply, type TextOp } from '../../protocol/ot';"],
  ['extension/workspace/x.ts', "import type { RelayClient } from '../../protocol/client';"],
  ['extension/x.ts', "import type { Participant } from '../protocol';"],
  ['extension/x.ts', "import * as vscode from 'vscode';"],
  ['relay/gateway/x.ts', "import { decodeClientFrame } from '../../protocol';"],
  ['relay/x.ts', "import { openFrames } from '../protocol/client';"],
  ['relay/cli/x.ts', "import { startRelay } from '../relay';"],
  ['protocol/ot/x.ts', "import type { TextOp } from '../schemas/collaboration';\nimport { z } from 'zod';"],
  ['electron-dashboard/src/x.ts', "import { RelayClient } from '../../protocol/client';"],
  ['electron-dashboard/renderer/x.ts', "import { MetricsAggregates } from '../../protocol';\nimport uPlot from 'uplot';"],
  ['electron-dashboard/main.ts', "import { app } from 'electron';"],
  // Tests see internals.
  ['test/extension/x.test.ts', "import { apply } from '../../protocol/ot/apply';\nimport { startRelay } from '../../relay/relay';"],
];

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.[cm]?[jt]s$/.test(entry.name)) yield path;
  }
}

describe('lint: layer boundaries', () => {
  for (const [file, code] of refused)
    it(`refuses in ${file}: ${code.replaceAll('\n', ' ')}`, async () => {
      assert.equal((await boundaryErrors(file, code)).length, 1);
    });

  for (const [file, code] of allowed)
    it(`allows in ${file}: ${code.replaceAll('\n', ' ')}`, async () => {
      assert.deepEqual(await boundaryErrors(file, code), []);
    });

  it('says what to import instead of a deep protocol import', async () => {
    const [message] = await boundaryErrors('extension/x.ts', "import { textHash } from '../protocol/ot/text-hash';");
    assert.match(message ?? '', /'…\/protocol\/ot'/);
  });

  it('is on for every source file of protocol/, relay/, extension/ and electron-dashboard/, and no file turns it off', async () => {
    const files = ['protocol', 'relay', 'extension', 'electron-dashboard'].flatMap((dir) => [...sourceFiles(dir)]);
    assert.ok(files.length > 50, `only ${files.length} source files found`);
    for (const file of files) {
      assert.equal(await eslint.isPathIgnored(file), false, `${file} is not linted`);
      const config = (await eslint.calculateConfigForFile(file)) as { rules?: Record<string, [number, ...unknown[]]> };
      assert.equal(config.rules?.[ruleId]?.[0], 2, `${ruleId} is not an error in ${file}`);
      const text = readFileSync(join(root, file), 'utf8');
      for (const [directive] of text.matchAll(/eslint-disable(?:-next-line|-line)?(?![\w-]).*/g))
        assert.ok(/ [\w@/-]/.test(directive) && !directive.includes('no-restricted-imports'), `${file}: ${directive}`);
    }
  });
});
