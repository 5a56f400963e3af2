/**
 * The host's language service for guests: answers `language.request`s with VS Code's own
 * commands (`vscode.executeHoverProvider`...), so whatever language extensions the host has
 * work for every guest. A guest is untrusted: it names a path, and the host decides from its own
 * rules whether that file is shared and which results point into shared files. Bounded: a few
 * requests per guest at once, a time limit each, answers that fit a frame.
 */
import * as vscode from 'vscode';
import type { Disposable, RelayClient } from '../../protocol/client';
import type { ClientPayload, LanguageErrorCode, LanguageRequestOut, LanguageResult } from '../../protocol';
import { FileFault } from '../workspace/file-fault';
import type { HostFolder } from '../workspace/host-folder';
import { Pacer } from '../workspace/chunks';
import { relativeWirePath } from '../workspace/wire-path';
import {
  completionToWire,
  diagnosticsToWire,
  fitResult,
  hoversToWire,
  locationsToWire,
  signatureHelpToWire,
  symbolsToWire,
} from './to-wire';

export interface LanguageHostOptions {
  /** Per request; a language server that takes longer gets `Timeout`. Default 10 s. */
  timeoutMs?: number;
  /** Requests of one guest connection at once; more are answered `Busy`. Default 8. */
  perRequester?: number;
  onError?: (message: string, error: unknown) => void;
}

type Answerable = Exclude<LanguageRequestOut, { op: 'cancel' }>;

class LanguageFault extends Error {
  constructor(
    readonly code: LanguageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;

export class LanguageHost implements vscode.Disposable {
  /** In flight, by requester then request id; a cancelled one is dropped from here and never answered. */
  private readonly running = new Map<string, Set<string>>();
  private readonly subscriptions: Disposable[];
  private readonly pacer: Pacer;
  private readonly timeoutMs: number;
  private readonly perRequester: number;

  constructor(
    private readonly folder: HostFolder,
    private readonly client: RelayClient,
    private readonly options: LanguageHostOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.perRequester = options.perRequester ?? 8;
    // A quarter of the relay's rate: the file service has half, edits and cursors the rest.
    this.pacer = new Pacer(() => Math.floor((client.connection?.limits.max_messages_per_second ?? 200) / 4));
    this.subscriptions = [
      client.on('language.request', (request) => void this.handle(request)),
      client.on('session.left', (participant) => this.running.delete(participant.connection_id)),
    ];
  }

  /** The wire path of a host URI when it is a shared file; what every result location goes through. */
  async sharedPathOf(uri: vscode.Uri): Promise<string | undefined> {
    const root = this.folder.root;
    if (uri.scheme !== root.scheme || uri.authority !== root.authority) return undefined;
    const path = relativeWirePath(root.path, uri.path);
    if (!path || (await this.folder.isExcluded(path, false)) || !(await this.folder.staysInside(path))) return undefined;
    return path;
  }

  private async handle(request: LanguageRequestOut): Promise<void> {
    const mine = this.running.get(request.requester) ?? new Set<string>();
    if (request.op === 'cancel') {
      mine.delete(request.request_id);
      return;
    }
    const head = { request_id: request.request_id, requester: request.requester };
    if (mine.size >= this.perRequester) {
      await this.send({ ...head, ok: false, error: { code: 'Busy', message: 'too many requests at once; try again' } });
      return;
    }
    mine.add(request.request_id);
    this.running.set(request.requester, mine);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new LanguageFault('Timeout', 'the host’s language service did not answer in time')),
          this.timeoutMs,
        );
      });
      const result = await Promise.race([this.answer(request), timeout]);
      if (!mine.has(request.request_id)) return; // cancelled meanwhile: nobody waits for it
      const fitted = fitResult(result, this.maxFrameBytes - 2048);
      if (!fitted) throw new LanguageFault('Unavailable', 'the answer is too large to send');
      await this.send({ ...head, ok: true, result: fitted });
    } catch (error) {
      if (!mine.has(request.request_id)) return;
      const fault = toFault(error);
      if (fault.code === 'Unavailable' && !(error instanceof LanguageFault))
        this.options.onError?.(`language: ${request.op} failed`, error);
      await this.send({ ...head, ok: false, error: { code: fault.code, message: fault.message.slice(0, 2000) } });
    } finally {
      clearTimeout(timer);
      mine.delete(request.request_id);
      if (mine.size === 0 && this.running.get(request.requester) === mine) this.running.delete(request.requester);
    }
  }

  private get maxFrameBytes(): number {
    return this.client.connection?.limits.max_frame_bytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  private async send(response: ClientPayload<'language.response'>): Promise<void> {
    await this.pacer.take();
    this.client.send('language.response', response);
  }

  private async answer(request: Answerable): Promise<LanguageResult> {
    if (request.op === 'diagnostics') return this.allDiagnostics();
    const uri = await this.sharedUri(request.path);
    const sharedPathOf = (target: vscode.Uri) => this.sharedPathOf(target);
    if (request.op === 'documentSymbols') {
      return symbolsToWire(
        await execute<Array<vscode.DocumentSymbol | vscode.SymbolInformation>>('vscode.executeDocumentSymbolProvider', uri),
      );
    }
    const position = new vscode.Position(request.position.line, request.position.character);
    switch (request.op) {
      case 'hover':
        return hoversToWire((await execute<vscode.Hover[]>('vscode.executeHoverProvider', uri, position)) ?? []);
      case 'completion':
        return completionToWire(
          await execute<vscode.CompletionList>('vscode.executeCompletionItemProvider', uri, position, request.trigger_character),
        );
      case 'signatureHelp':
        return signatureHelpToWire(
          await execute<vscode.SignatureHelp>('vscode.executeSignatureHelpProvider', uri, position, request.trigger_character),
        );
      case 'definition':
        return locationsToWire(
          await execute<Array<vscode.Location | vscode.LocationLink>>('vscode.executeDefinitionProvider', uri, position),
          sharedPathOf,
        );
      case 'references':
        return locationsToWire(await execute<vscode.Location[]>('vscode.executeReferenceProvider', uri, position), sharedPathOf);
      case 'implementation':
        return locationsToWire(
          await execute<Array<vscode.Location | vscode.LocationLink>>('vscode.executeImplementationProvider', uri, position),
          sharedPathOf,
        );
    }
  }

  /** The host's URI of a file a guest may read; `NotShared` for anything else, whatever it is. */
  private async sharedUri(path: string): Promise<vscode.Uri> {
    try {
      await this.folder.assertShared(path, 'file', 'read');
      return this.folder.uriOf(path, 'read');
    } catch {
      throw new LanguageFault('NotShared', `${path}: not shared`);
    }
  }

  /** Every shared file's current diagnostics (cut to fit one answer by `fitResult`). */
  private async allDiagnostics(): Promise<LanguageResult> {
    const files = [];
    for (const [uri, diagnostics] of vscode.languages.getDiagnostics()) {
      if (diagnostics.length === 0 || files.length >= 1000) continue;
      const path = await this.sharedPathOf(uri);
      if (path !== undefined) files.push({ path, diagnostics: diagnosticsToWire(diagnostics) });
    }
    return { kind: 'diagnostics', files, incomplete: false };
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
    this.running.clear();
  }
}

function execute<T>(command: string, ...args: unknown[]): Thenable<T | undefined> {
  return vscode.commands.executeCommand<T | undefined>(command, ...args);
}

function toFault(error: unknown): LanguageFault {
  if (error instanceof LanguageFault) return error;
  if (error instanceof FileFault) return new LanguageFault('NotShared', error.message);
  return new LanguageFault('Unavailable', 'the host’s language service failed');
}
