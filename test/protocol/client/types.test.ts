import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import ts from 'typescript';

// The catalog types the client's `send` and `on`. Checked by compiling snippets against the real
// sources: one that must compile cleanly (so a broken setup cannot pass as "errors found"), and
// one whose every marked line must fail.

const clientModule = path.resolve(import.meta.dirname, '../../../protocol/client/index');
const dir = mkdtempSync(path.join(tmpdir(), 'tandem-client-types-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const header = `import { RelayClient, createNodeWsTransport } from ${JSON.stringify(clientModule)};
declare const client: RelayClient;
`;

const good = `
const sent: boolean = client.send('chat.message', { content: 'hi', to: 'bob' });
client.send('system.ping', {});
client.on('chat.message', (payload, frame) => {
  const id: string = payload.message_id;
  const name: string = frame.payload.display_name;
  const user: string = frame.user_id;
  void [id, name, user];
});
client.on('connect', (payload) => {
  const ms: number = payload.heartbeat_interval_ms;
  void ms;
});
client.on('error', (payload) => {
  const code: string = payload.code;
  void code;
});
void sent;
void createNodeWsTransport;
`;

/** Lines 2-7 must each fail. */
const bad = `
client.send('chat.message', { content: 1 });
client.send('chat.message', { text: 'hi' });
client.send('connect', {});
client.send('no.such.event', {});
client.on('system.ping', () => undefined);
client.on('chat.message', (payload) => { const n: number = payload.content; void n; });
`;

type Found = Array<{ line: number; code: number; text: string }>;

/** Both snippets in one program: loading zod's types dominates the cost. */
function compile(): { good: Found; bad: Found } {
  const files = { good: path.join(dir, 'good.ts'), bad: path.join(dir, 'bad.ts') };
  writeFileSync(files.good, header + good);
  writeFileSync(files.bad, header + bad);
  const program = ts.createProgram(Object.values(files), {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  const headerLines = header.split('\n').length - 1;
  const found = (file: string): Found =>
    ts
      .getPreEmitDiagnostics(program, program.getSourceFile(file))
      .filter((d) => d.file?.fileName === file)
      .map((d) => ({
        // 1-based line within the snippet, whose first line is the empty one after the backtick.
        line: (d.file?.getLineAndCharacterOfPosition(d.start ?? 0).line ?? 0) - headerLines + 1,
        code: d.code,
        text: ts.flattenDiagnosticMessageText(d.messageText, '\n'),
      }));
  return { good: found(files.good), bad: found(files.bad) };
}

describe('RelayClient types', { timeout: 60_000 }, () => {
  let result: { good: Found; bad: Found } | undefined;
  const compiled = (): { good: Found; bad: Found } => (result ??= compile());

  it('accepts payloads and listeners that match the catalog', () => {
    assert.deepEqual(compiled().good, []);
  });

  it('refuses wrong payloads, server-only events and wrong listener types', () => {
    const found = compiled().bad;
    const lines = [...new Set(found.map((d) => d.line))].sort((a, b) => a - b);
    assert.deepEqual(lines, [2, 3, 4, 5, 6, 7], JSON.stringify(found, null, 1));
  });
});
