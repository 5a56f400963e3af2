/**
 * The host's problems in shared files, live for guests: VS Code's `onDidChangeDiagnostics`
 * gathered for a moment, each changed shared file's whole list (an empty one clears it) sent as
 * `language.diagnostics`, in frames within the limit. Files that are not shared are never named.
 */
import * as vscode from 'vscode';
import type { FileDiagnostics, LanguageDiagnosticsPayload } from '../../protocol';
import { splitByJsonSize } from '../workspace/chunks';
import { diagnosticsToWire } from './to-wire';

/** Changes arriving within this window go out together (a language server reports file by file). */
const GATHER_MS = 200;

export class DiagnosticsFeed implements vscode.Disposable {
  private readonly pending = new Map<string, vscode.Uri>();
  private readonly listener: vscode.Disposable;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly sharedPathOf: (uri: vscode.Uri) => Promise<string | undefined>,
    private readonly send: (payload: LanguageDiagnosticsPayload) => void,
    private readonly maxFrameBytes: () => number,
  ) {
    this.listener = vscode.languages.onDidChangeDiagnostics((event) => {
      for (const uri of event.uris) this.pending.set(uri.toString(), uri);
      this.timer ??= setTimeout(() => void this.flush(), GATHER_MS);
    });
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const uris = [...this.pending.values()];
    this.pending.clear();
    const room = this.maxFrameBytes() - 2048;
    const files: FileDiagnostics[] = [];
    for (const uri of uris) {
      const path = await this.sharedPathOf(uri);
      if (path === undefined) continue;
      // One file's list alone may not fit a frame: its first ones, then (most important first).
      const diagnostics = splitByJsonSize(diagnosticsToWire(vscode.languages.getDiagnostics(uri)), room - 2 * path.length - 64)[0]!;
      files.push({ path, diagnostics });
    }
    if (this.disposed) return;
    for (const run of splitByJsonSize(files, room)) if (run.length > 0) this.send({ files: run.slice(0, 1000) });
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.listener.dispose();
  }
}
