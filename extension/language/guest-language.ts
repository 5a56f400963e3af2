/**
 * The guest's language features for the session's `tandem:` files, all answered by the host:
 * hover, completion, signature help, definition, references, implementation, document symbols,
 * and the host's problems in the Problems view (asked for on every connect, then kept live by
 * `language.diagnostics`). A request VS Code cancels (the caret moved on) is cancelled on the host.
 */
import * as vscode from 'vscode';
import type { Disposable, RelayClient } from '../../protocol/client';
import type { LanguageResult, SharedLocation } from '../../protocol';
import { SHARED_SCHEME } from '../workspace/shared-fs';
import { relativeWirePath } from '../workspace/wire-path';
import {
  completionItemFromWire,
  diagnosticFromWire,
  hoverFromWire,
  locationsFromWire,
  signatureHelpFromWire,
  symbolsFromWire,
} from './from-wire';
import { isFailure, LanguageClient } from './language-client';

const SELECTOR: vscode.DocumentSelector = { scheme: SHARED_SCHEME };
/** What typing these asks the host for completions and signatures (the common ones of most languages). */
const COMPLETION_TRIGGERS = ['.', ':', '<', '"', "'", '/', '@', '#'];
const SIGNATURE_TRIGGERS = ['(', ','];

export class GuestLanguage implements vscode.Disposable {
  readonly requests: LanguageClient;
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('tandem');
  private readonly disposables: Array<vscode.Disposable | Disposable> = [];
  private readonly notShared = new vscode.EventEmitter<number>();
  /** A navigation found only places the host does not share (how many). */
  readonly onDidFindNotShared = this.notShared.event;

  constructor(
    client: RelayClient,
    private readonly sessionId: string,
  ) {
    this.requests = new LanguageClient(client);
    const position = (p: vscode.Position) => ({ line: p.line, character: p.character });
    const locations = async (
      op: 'definition' | 'references' | 'implementation',
      document: vscode.TextDocument,
      at: vscode.Position,
      token: vscode.CancellationToken,
    ) => {
      const path = this.pathOf(document.uri);
      if (path === undefined) return undefined;
      const result = await this.requests.result({ op, path, position: position(at) }, 'locations', token);
      if (!result) return undefined;
      if (result.locations.length === 0 && result.not_shared > 0) this.notShared.fire(result.not_shared);
      return this.fromWire(result.locations);
    };
    this.disposables.push(
      this.diagnostics,
      this.notShared,
      this.requests,
      this.notShared.event((count) =>
        vscode.window.setStatusBarMessage(`Tandem: ${count === 1 ? 'that is' : 'those are'} in files the host does not share`, 5000),
      ),
      vscode.languages.registerHoverProvider(SELECTOR, {
        provideHover: async (document, at, token) => {
          const path = this.pathOf(document.uri);
          const result =
            path === undefined ? undefined : await this.requests.result({ op: 'hover', path, position: position(at) }, 'hover', token);
          return result && hoverFromWire(result);
        },
      }),
      vscode.languages.registerCompletionItemProvider(
        SELECTOR,
        {
          provideCompletionItems: async (document, at, token, context) => {
            const path = this.pathOf(document.uri);
            if (path === undefined) return undefined;
            const question = {
              op: 'completion' as const,
              path,
              position: position(at),
              ...(context.triggerCharacter && { trigger_character: context.triggerCharacter }),
            };
            const result = await this.requests.result(question, 'completion', token);
            return result && new vscode.CompletionList(result.items.map(completionItemFromWire), result.incomplete);
          },
        },
        ...COMPLETION_TRIGGERS,
      ),
      vscode.languages.registerSignatureHelpProvider(
        SELECTOR,
        {
          provideSignatureHelp: async (document, at, token, context) => {
            const path = this.pathOf(document.uri);
            if (path === undefined) return undefined;
            const question = {
              op: 'signatureHelp' as const,
              path,
              position: position(at),
              ...(context.triggerCharacter && { trigger_character: context.triggerCharacter }),
            };
            const result = await this.requests.result(question, 'signatureHelp', token);
            return result && signatureHelpFromWire(result);
          },
        },
        ...SIGNATURE_TRIGGERS,
      ),
      vscode.languages.registerDefinitionProvider(SELECTOR, { provideDefinition: (d, p, t) => locations('definition', d, p, t) }),
      vscode.languages.registerImplementationProvider(SELECTOR, {
        provideImplementation: (d, p, t) => locations('implementation', d, p, t),
      }),
      vscode.languages.registerReferenceProvider(SELECTOR, {
        provideReferences: async (d, p, _context, t) => (await locations('references', d, p, t)) as vscode.Location[] | undefined,
      }),
      vscode.languages.registerDocumentSymbolProvider(SELECTOR, {
        provideDocumentSymbols: async (document, token) => {
          const path = this.pathOf(document.uri);
          const result = path === undefined ? undefined : await this.requests.result({ op: 'documentSymbols', path }, 'symbols', token);
          return result && symbolsFromWire(result.symbols);
        },
      }),
      client.on('language.diagnostics', (payload) => this.setDiagnostics(payload.files)),
      // Whatever changed while the connection was down was never told: ask for all of it again.
      client.onConnected(() => void this.refreshDiagnostics()),
    );
    if (client.state === 'open') void this.refreshDiagnostics();
  }

  /** The host's current problems of every shared file (those that fit one answer; the rest come as they change). */
  async refreshDiagnostics(): Promise<void> {
    const outcome = await this.requests.ask({ op: 'diagnostics' });
    if (isFailure(outcome) || outcome.kind !== 'diagnostics') return;
    this.diagnostics.clear();
    this.setDiagnostics(outcome.files);
  }

  private setDiagnostics(files: Extract<LanguageResult, { kind: 'diagnostics' }>['files']): void {
    for (const file of files) this.diagnostics.set(this.uriOf(file.path), file.diagnostics.map(diagnosticFromWire));
  }

  private fromWire(locations: readonly SharedLocation[]) {
    return locationsFromWire(locations, (path) => this.uriOf(path));
  }

  uriOf(path: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SHARED_SCHEME, authority: this.sessionId, path: `/${path}` });
  }

  /** The wire path of a file of this session; undefined for another session's. */
  private pathOf(uri: vscode.Uri): string | undefined {
    if (uri.scheme !== SHARED_SCHEME || uri.authority !== this.sessionId) return undefined;
    return relativeWirePath('/', uri.path) || undefined;
  }

  dispose(): void {
    for (const disposable of this.disposables.splice(0).reverse()) disposable.dispose();
  }
}
