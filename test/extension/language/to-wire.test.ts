/**
 * The host's language results in wire form, from plain objects shaped as VS Code's: what is
 * shared stays, what is not is counted and left out, lists are capped and fit a frame.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as vscode from 'vscode';
import { LANGUAGE_LIMITS, LanguageResponse, type LanguageResult } from '../../../protocol';
import {
  completionToWire,
  diagnosticsToWire,
  fitResult,
  hoversToWire,
  locationsToWire,
  signatureHelpToWire,
  symbolsToWire,
} from '../../../extension/language/to-wire';

const pos = (line: number, character: number) => ({ line, character }) as vscode.Position;
const range = (a: number, b: number, c: number, d: number) => ({ start: pos(a, b), end: pos(c, d) }) as vscode.Range;
const uri = (path: string) => ({ scheme: 'file', authority: '', path }) as vscode.Uri;
/** The host's sharing rules in small: files under /repo are shared, but not its node_modules. */
const sharedPathOf = async (u: vscode.Uri) =>
  u.path.startsWith('/repo/') && !u.path.includes('/node_modules/') ? u.path.slice('/repo/'.length) : undefined;

/** Every result must be a valid wire answer. */
function valid(result: LanguageResult): LanguageResult {
  LanguageResponse.parse({ request_id: 'r', requester: 'c', ok: true, result });
  return result;
}

describe('language results to the wire', () => {
  it('turns hovers of every form into Markdown pieces, and no hover into none', () => {
    const hover = {
      contents: [{ value: '**bold**' }, 'plain', { language: 'ts', value: 'const x: number' }, { value: '  ' }],
      range: range(1, 2, 1, 5),
    } as unknown as vscode.Hover;
    assert.deepEqual(valid(hoversToWire([hover])), {
      kind: 'hover',
      contents: ['**bold**', 'plain', '```ts\nconst x: number\n```'],
      range: { start: { line: 1, character: 2 }, end: { line: 1, character: 5 } },
    });
    assert.deepEqual(hoversToWire([]), { kind: 'none' });
  });

  it('caps completions at the limit and says the list is incomplete; snippets stay snippets', () => {
    const items = Array.from({ length: 250 }, (_, i) => ({ label: `item${i}`, kind: 2 }));
    items[0] = { label: { label: 'log' }, insertText: { value: 'log($1)' }, kind: 1 } as never;
    const result = valid(completionToWire({ items, isIncomplete: false } as unknown as vscode.CompletionList));
    assert.ok(result.kind === 'completion');
    assert.equal(result.items.length, LANGUAGE_LIMITS.completionItems);
    assert.equal(result.incomplete, true);
    assert.deepEqual(result.items[0], { label: 'log', item_kind: 1, insert_text: 'log($1)', snippet: true });
  });

  it('keeps signature parameters given as offsets', () => {
    const help = {
      signatures: [{ label: 'add(a, b)', parameters: [{ label: [4, 5] }, { label: 'b' }], activeParameter: 1 }],
      activeSignature: 0,
      activeParameter: 1,
    } as unknown as vscode.SignatureHelp;
    assert.deepEqual(valid(signatureHelpToWire(help)), {
      kind: 'signatureHelp',
      signatures: [{ label: 'add(a, b)', parameters: [{ label: { start: 4, end: 5 } }, { label: 'b' }], active_parameter: 1 }],
      active_signature: 0,
      active_parameter: 1,
    });
  });

  it('keeps locations in shared files as wire paths, and counts the others without naming them', async () => {
    const results = [
      { uri: uri('/repo/src/util.ts'), range: range(0, 0, 0, 4) },
      { targetUri: uri('/repo/node_modules/lib/index.d.ts'), targetRange: range(3, 0, 9, 1) },
      { targetUri: uri('/elsewhere/secret.ts'), targetRange: range(0, 0, 0, 1) },
      {
        targetUri: uri('/repo/src/a.ts'),
        targetRange: range(2, 0, 4, 1),
        targetSelectionRange: range(2, 9, 2, 12),
        originSelectionRange: range(7, 3, 7, 6),
      },
    ] as unknown as vscode.LocationLink[];
    const result = valid(await locationsToWire(results, sharedPathOf));
    assert.ok(result.kind === 'locations');
    assert.deepEqual(
      result.locations.map((l) => l.path),
      ['src/util.ts', 'src/a.ts'],
    );
    assert.deepEqual(result.locations[1]!.origin_range, { start: { line: 7, character: 3 }, end: { line: 7, character: 6 } });
    assert.equal(result.not_shared, 2);
    assert.equal(result.incomplete, false);
    assert.ok(!JSON.stringify(result).includes('node_modules') && !JSON.stringify(result).includes('elsewhere'));
  });

  it('flattens a symbol tree with parent indexes, and symbol information without', () => {
    const leaf = { name: 'greet', detail: '()', kind: 5, range: range(2, 2, 4, 3), selectionRange: range(2, 2, 2, 7), children: [] };
    const root = { name: 'Greeter', detail: '', kind: 4, range: range(1, 0, 5, 1), selectionRange: range(1, 6, 1, 13), children: [leaf] };
    const result = valid(symbolsToWire([root, { ...root, name: 'Other', children: [] }] as unknown as vscode.DocumentSymbol[]));
    assert.ok(result.kind === 'symbols');
    assert.deepEqual(
      result.symbols.map((s) => [s.name, s.parent]),
      [
        ['Greeter', undefined],
        ['greet', 0],
        ['Other', undefined],
      ],
    );
    const info = { name: 'x', kind: 12, containerName: 'mod', location: { uri: uri('/repo/a.ts'), range: range(0, 0, 0, 1) } };
    const flat = symbolsToWire([info] as unknown as vscode.SymbolInformation[]);
    assert.ok(flat.kind === 'symbols');
    assert.deepEqual(flat.symbols[0], {
      name: 'x',
      detail: 'mod',
      symbol_kind: 12,
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      selection_range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
    });
  });

  it('puts errors first and caps diagnostics per file', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({ range: range(i, 0, i, 1), message: `m${i}`, severity: i === 599 ? 0 : 2 }));
    const wire = diagnosticsToWire(many as unknown as vscode.Diagnostic[]);
    assert.equal(wire.length, LANGUAGE_LIMITS.diagnosticsPerFile);
    assert.equal(wire[0]!.message, 'm599');
    const coded = diagnosticsToWire([
      { range: range(0, 0, 0, 1), message: 'x', severity: 1, source: 'ts', code: { value: 2322, target: uri('/x') } },
    ] as never);
    assert.deepEqual(coded[0], {
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } },
      message: 'x',
      severity: 1,
      source: 'ts',
      code: 2322,
    });
  });

  it('cuts a list that would not fit a frame, and marks it incomplete', () => {
    const items = Array.from({ length: 200 }, (_, i) => ({ label: `item${i}`, documentation: 'x'.repeat(1000) }));
    const fitted = fitResult({ kind: 'completion', items, incomplete: false }, 32 * 1024);
    assert.ok(fitted?.kind === 'completion');
    assert.ok(fitted.items.length > 0 && fitted.items.length < 200);
    assert.equal(fitted.incomplete, true);
    assert.ok(Buffer.byteLength(JSON.stringify(fitted)) <= 32 * 1024);
    const small: LanguageResult = { kind: 'none' };
    assert.equal(fitResult(small, 1024), small);
  });
});
