/**
 * The host's language results (what `vscode.execute*Provider` return) in their wire form: plain,
 * bounded, and with every location checked against what the host shares. Structural, with type
 * imports of `vscode` only, so the node unit tests run it with plain objects.
 */
import type * as vscode from 'vscode';
import {
  type CompletionItem,
  type Diagnostic,
  LANGUAGE_LIMITS,
  type LanguageResult,
  type Position,
  type Range,
  type SharedLocation,
  type SymbolEntry,
} from '../../protocol';

/** The longest text one field carries (the wire allows 16 KiB; labels 1 KiB). */
const TEXT_CHARS = 16_384;
const LABEL_CHARS = 1024;

const cut = (text: string, max = TEXT_CHARS) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function positionToWire(position: vscode.Position): Position {
  return { line: position.line, character: position.character };
}

export function rangeToWire(range: vscode.Range): Range {
  return { start: positionToWire(range.start), end: positionToWire(range.end) };
}

/** Markdown of any of VS Code's hover and documentation forms. */
export function markdownOf(content: vscode.MarkdownString | vscode.MarkedString | string | undefined): string | undefined {
  if (content === undefined) return undefined;
  if (typeof content === 'string') return content;
  if ('language' in content && typeof content.language === 'string') return `\`\`\`${content.language}\n${content.value}\n\`\`\``;
  return content.value;
}

export function hoversToWire(hovers: readonly vscode.Hover[]): LanguageResult {
  const contents = hovers
    .flatMap((hover) => hover.contents.map((content) => markdownOf(content) ?? ''))
    .filter((text) => text.trim() !== '')
    .slice(0, 20)
    .map((text) => cut(text));
  if (contents.length === 0) return { kind: 'none' };
  const range = hovers.find((hover) => hover.range)?.range;
  return { kind: 'hover', contents, ...(range && { range: rangeToWire(range) }) };
}

function labelOf(label: string | vscode.CompletionItemLabel): string {
  return typeof label === 'string' ? label : label.label;
}

export function completionToWire(list: vscode.CompletionList | undefined): LanguageResult {
  const all = list?.items ?? [];
  const items = all.slice(0, LANGUAGE_LIMITS.completionItems).map((item): CompletionItem => {
    const insert = item.insertText;
    // A SnippetString is an object with `value`; an edit-range pair is reduced to where it replaces.
    const snippet = insert !== undefined && typeof insert !== 'string';
    const range = item.range && ('replacing' in item.range ? item.range.replacing : item.range);
    const documentation = markdownOf(item.documentation);
    return {
      label: cut(labelOf(item.label), LABEL_CHARS),
      ...(item.kind !== undefined && { item_kind: item.kind }),
      ...(item.detail !== undefined && { detail: cut(item.detail, LABEL_CHARS) }),
      ...(documentation !== undefined && { documentation: cut(documentation) }),
      ...(insert !== undefined && { insert_text: cut(typeof insert === 'string' ? insert : insert.value) }),
      ...(snippet && { snippet: true }),
      ...(item.filterText !== undefined && { filter_text: cut(item.filterText, LABEL_CHARS) }),
      ...(item.sortText !== undefined && { sort_text: cut(item.sortText, LABEL_CHARS) }),
      ...(item.preselect && { preselect: true }),
      ...(range && { range: rangeToWire(range) }),
    };
  });
  return { kind: 'completion', items, incomplete: Boolean(list?.isIncomplete) || all.length > items.length };
}

export function signatureHelpToWire(help: vscode.SignatureHelp | undefined): LanguageResult {
  if (!help || help.signatures.length === 0) return { kind: 'none' };
  return {
    kind: 'signatureHelp',
    signatures: help.signatures.slice(0, LANGUAGE_LIMITS.signatures).map((signature) => {
      const documentation = markdownOf(signature.documentation);
      return {
        label: cut(signature.label),
        ...(documentation !== undefined && { documentation: cut(documentation) }),
        parameters: signature.parameters.slice(0, 100).map((parameter) => {
          const doc = markdownOf(parameter.documentation);
          return {
            label:
              typeof parameter.label === 'string'
                ? cut(parameter.label, LABEL_CHARS)
                : { start: parameter.label[0], end: parameter.label[1] },
            ...(doc !== undefined && { documentation: cut(doc) }),
          };
        }),
        ...(signature.activeParameter !== undefined && { active_parameter: signature.activeParameter }),
      };
    }),
    active_signature: help.activeSignature,
    active_parameter: help.activeParameter,
  };
}

/** A host URI's wire path when it is a file the host shares; undefined for anything else. */
export type SharedPathOf = (uri: vscode.Uri) => Promise<string | undefined>;

/**
 * Locations and location links, those in shared files only (`not_shared` counts the others: the
 * guest says so rather than showing nothing without a reason).
 */
export async function locationsToWire(
  results: ReadonlyArray<vscode.Location | vscode.LocationLink> | undefined,
  sharedPathOf: SharedPathOf,
): Promise<LanguageResult> {
  const all = results ?? [];
  const locations: SharedLocation[] = [];
  let notShared = 0;
  for (const result of all) {
    if (locations.length >= LANGUAGE_LIMITS.locations) break;
    const link = 'targetUri' in result;
    const path = await sharedPathOf(link ? result.targetUri : result.uri);
    if (path === undefined) {
      notShared++;
      continue;
    }
    if (link) {
      locations.push({
        path,
        range: rangeToWire(result.targetRange),
        ...(result.targetSelectionRange && { selection_range: rangeToWire(result.targetSelectionRange) }),
        ...(result.originSelectionRange && { origin_range: rangeToWire(result.originSelectionRange) }),
      });
    } else {
      locations.push({ path, range: rangeToWire(result.range) });
    }
  }
  return { kind: 'locations', locations, not_shared: notShared, incomplete: locations.length + notShared < all.length };
}

/** Document symbols as a flat list in tree order, each naming its parent's index. */
export function symbolsToWire(results: ReadonlyArray<vscode.DocumentSymbol | vscode.SymbolInformation> | undefined): LanguageResult {
  const symbols: SymbolEntry[] = [];
  let incomplete = false;
  const visit = (symbol: vscode.DocumentSymbol | vscode.SymbolInformation, parent: number | undefined) => {
    if (symbols.length >= LANGUAGE_LIMITS.symbols) {
      incomplete = true;
      return;
    }
    const tree = 'children' in symbol;
    const range = tree ? symbol.range : symbol.location.range;
    const detail = tree ? symbol.detail : symbol.containerName;
    const index = symbols.length;
    symbols.push({
      name: cut(symbol.name, LABEL_CHARS),
      ...(detail && { detail: cut(detail, LABEL_CHARS) }),
      symbol_kind: symbol.kind,
      range: rangeToWire(range),
      selection_range: rangeToWire(tree ? symbol.selectionRange : range),
      ...(parent !== undefined && { parent }),
    });
    if (tree) for (const child of symbol.children) visit(child, index);
  };
  for (const symbol of results ?? []) visit(symbol, undefined);
  return { kind: 'symbols', symbols, incomplete };
}

export function diagnosticToWire(diagnostic: vscode.Diagnostic): Diagnostic {
  const code = typeof diagnostic.code === 'object' ? diagnostic.code.value : diagnostic.code;
  return {
    range: rangeToWire(diagnostic.range),
    message: cut(diagnostic.message),
    severity: diagnostic.severity,
    ...(diagnostic.source !== undefined && { source: cut(diagnostic.source, LABEL_CHARS) }),
    ...(code !== undefined && { code: typeof code === 'string' ? cut(code, LABEL_CHARS) : code }),
  };
}

/** Errors first (a stable sort), so that a cut list keeps what matters most. */
export function diagnosticsToWire(diagnostics: readonly vscode.Diagnostic[]): Diagnostic[] {
  return [...diagnostics]
    .sort((a, b) => a.severity - b.severity)
    .slice(0, LANGUAGE_LIMITS.diagnosticsPerFile)
    .map(diagnosticToWire);
}

/**
 * A result that fits `maxBytes` of JSON: its list cut (and marked `incomplete`) when it does not,
 * hover and signature texts dropped from the end. Undefined when even that does not fit.
 */
export function fitResult(result: LanguageResult, maxBytes: number): LanguageResult | undefined {
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
  if (size(result) <= maxBytes) return result;
  const shrink = <T>(items: readonly T[], rebuild: (kept: T[]) => LanguageResult): LanguageResult | undefined => {
    for (let keep = items.length - 1; keep >= 0; keep = Math.min(keep - 1, Math.floor(keep * 0.8))) {
      const candidate = rebuild(items.slice(0, keep));
      if (size(candidate) <= maxBytes) return candidate;
    }
    return undefined;
  };
  switch (result.kind) {
    case 'completion':
      return shrink(result.items, (items) => ({ ...result, items, incomplete: true }));
    case 'locations':
      return shrink(result.locations, (locations) => ({ ...result, locations, incomplete: true }));
    case 'symbols':
      return shrink(result.symbols, (symbols) => ({ ...result, symbols, incomplete: true }));
    case 'diagnostics':
      return shrink(result.files, (files) => ({ ...result, files, incomplete: true }));
    case 'hover':
      return shrink(result.contents, (contents) => ({ ...result, contents }));
    case 'signatureHelp':
      return shrink(result.signatures, (signatures) => ({ ...result, signatures, active_signature: 0 }));
    case 'none':
      return undefined;
  }
}
