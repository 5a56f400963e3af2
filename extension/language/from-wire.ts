/**
 * The host's answers (wire form) as VS Code's objects on the guest, with locations in the
 * session's `tandem:` file system. Markdown is never trusted: a host's hover cannot run commands
 * in the guest's VS Code.
 */
import * as vscode from 'vscode';
import type { CompletionItem, Diagnostic, LanguageResult, Range, SharedLocation, SymbolEntry } from '../../protocol';
import { symbolTree, type TreeNode } from './symbol-tree';

export type UriOf = (path: string) => vscode.Uri;

export function rangeFromWire(range: Range): vscode.Range {
  return new vscode.Range(range.start.line, range.start.character, range.end.line, range.end.character);
}

function markdown(text: string): vscode.MarkdownString {
  const value = new vscode.MarkdownString(text);
  value.isTrusted = false;
  value.supportHtml = false;
  return value;
}

export function hoverFromWire(result: Extract<LanguageResult, { kind: 'hover' }>): vscode.Hover {
  return new vscode.Hover(result.contents.map(markdown), result.range && rangeFromWire(result.range));
}

export function completionItemFromWire(item: CompletionItem): vscode.CompletionItem {
  const out = new vscode.CompletionItem(item.label, item.item_kind as vscode.CompletionItemKind | undefined);
  if (item.detail !== undefined) out.detail = item.detail;
  if (item.documentation !== undefined) out.documentation = markdown(item.documentation);
  if (item.insert_text !== undefined) out.insertText = item.snippet ? new vscode.SnippetString(item.insert_text) : item.insert_text;
  if (item.filter_text !== undefined) out.filterText = item.filter_text;
  if (item.sort_text !== undefined) out.sortText = item.sort_text;
  if (item.preselect) out.preselect = true;
  if (item.range) out.range = rangeFromWire(item.range);
  return out;
}

export function signatureHelpFromWire(result: Extract<LanguageResult, { kind: 'signatureHelp' }>): vscode.SignatureHelp {
  const help = new vscode.SignatureHelp();
  help.signatures = result.signatures.map((signature) => {
    const info = new vscode.SignatureInformation(signature.label, signature.documentation && markdown(signature.documentation));
    info.parameters = signature.parameters.map(
      (parameter) =>
        new vscode.ParameterInformation(
          typeof parameter.label === 'string' ? parameter.label : [parameter.label.start, parameter.label.end],
          parameter.documentation && markdown(parameter.documentation),
        ),
    );
    if (signature.active_parameter !== undefined) info.activeParameter = signature.active_parameter;
    return info;
  });
  help.activeSignature = result.active_signature;
  help.activeParameter = result.active_parameter;
  return help;
}

/** As links when the host gave links (the word they are for, the symbol's own range), as locations otherwise. */
export function locationsFromWire(locations: readonly SharedLocation[], uriOf: UriOf): vscode.Location[] | vscode.LocationLink[] {
  if (locations.some((location) => location.origin_range || location.selection_range)) {
    return locations.map((location) => ({
      targetUri: uriOf(location.path),
      targetRange: rangeFromWire(location.range),
      ...(location.selection_range && { targetSelectionRange: rangeFromWire(location.selection_range) }),
      ...(location.origin_range && { originSelectionRange: rangeFromWire(location.origin_range) }),
    }));
  }
  return locations.map((location) => new vscode.Location(uriOf(location.path), rangeFromWire(location.range)));
}

export function symbolsFromWire(symbols: readonly SymbolEntry[]): vscode.DocumentSymbol[] {
  const toSymbol = (node: TreeNode<vscode.DocumentSymbol>): vscode.DocumentSymbol => {
    node.value.children = node.children.map(toSymbol);
    return node.value;
  };
  return symbolTree(symbols, (entry) => {
    const range = rangeFromWire(entry.range);
    const selection = rangeFromWire(entry.selection_range);
    // VS Code throws for a selection outside the symbol's range: the range itself then.
    const kind = entry.symbol_kind as vscode.SymbolKind;
    return new vscode.DocumentSymbol(entry.name, entry.detail ?? '', kind, range, range.contains(selection) ? selection : range);
  }).map(toSymbol);
}

export function diagnosticFromWire(diagnostic: Diagnostic): vscode.Diagnostic {
  const out = new vscode.Diagnostic(rangeFromWire(diagnostic.range), diagnostic.message, diagnostic.severity as vscode.DiagnosticSeverity);
  if (diagnostic.source !== undefined) out.source = diagnostic.source;
  if (diagnostic.code !== undefined) out.code = diagnostic.code;
  return out;
}
