import * as vscode from 'vscode';
import type { StackFrame, StoppedState, Variable } from '../../protocol';
import type { DebugChannel } from './debug-channel';

type Node =
  | { kind: 'group'; label: 'Call Stack' | 'Variables' }
  | { kind: 'frame'; frame: StackFrame; index: number }
  | { kind: 'variable'; variable: Variable }
  | { kind: 'more'; label: string };

const reasonText: Record<StoppedState['reason'], string> = {
  breakpoint: 'on a breakpoint',
  step: 'after a step',
  exception: 'on an exception',
  pause: 'paused',
  entry: 'on entry',
  goto: 'after goto',
  function_breakpoint: 'on a function breakpoint',
  data_breakpoint: 'on a data breakpoint',
  instruction_breakpoint: 'on an instruction breakpoint',
  other: 'stopped',
};

/**
 * A guest's view of the host's debugger, live: the line where it is stopped highlighted in the
 * shared file (the theme's stack-frame colours; the file is opened the first time it stops), the
 * reason in the status bar, and the call stack and the top frame's variables in the "Host's
 * Debugger" view. It clears when the host runs on, ends debugging or leaves, and when we leave.
 * The context key `tandem.hostStopped` drives the view's Continue / Step buttons.
 */
export class HostDebugView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly decoration = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
    overviewRulerColor: new vscode.ThemeColor('editor.stackFrameHighlightBackground'),
    overviewRulerLane: vscode.OverviewRulerLane.Full,
  });
  private readonly status = vscode.window.createStatusBarItem('tandem.hostDebugger', vscode.StatusBarAlignment.Left, 99);
  private readonly subscriptions: vscode.Disposable[];
  private shown: StoppedState | null = null;
  /** The editor line highlighted now (for tests: decorations cannot be read back). */
  highlighted: { uri: vscode.Uri; line: number } | undefined;

  constructor(
    private readonly channel: DebugChannel,
    private readonly uriOf: (documentId: string) => vscode.Uri | undefined,
  ) {
    this.status.name = 'Tandem: Host’s Debugger';
    this.status.command = 'tandem.debugging.focus';
    this.subscriptions = [
      channel.onDidChangeStopped(() => void this.update()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.decorate()),
    ];
  }

  /** Where the host is stopped, as this view shows it. */
  get stopped(): StoppedState | null {
    return this.shown;
  }

  /** A guest's: the host's own debugger shows all this already. */
  private get current(): StoppedState | null {
    return this.channel.role && this.channel.role !== 'host' ? this.channel.tracker.stopped : null;
  }

  private async update(): Promise<void> {
    const previous = this.shown;
    const stopped = this.current;
    this.shown = stopped;
    void vscode.commands.executeCommand('setContext', 'tandem.hostStopped', stopped !== null);
    this.changed.fire();
    if (!stopped) {
      this.status.hide();
      this.decorate();
      return;
    }
    const where = stopped.location ? ` at ${stopped.location.document}:${stopped.location.line + 1}` : ' outside the shared files';
    this.status.text = `$(debug-pause) Host ${reasonText[stopped.reason]}${where}`;
    this.status.tooltip = stopped.description ?? 'The host’s debugger is stopped: see the Host’s Debugger view';
    this.status.show();
    this.decorate();
    const uri = stopped.location && this.uriOf(stopped.location.document);
    if (!uri || !stopped.location) return;
    const position = new vscode.Position(stopped.location.line, stopped.location.column);
    const range = new vscode.Range(position, position);
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    if (editor) editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    // The first stop (after running) opens its file; steps after it only scroll an editor that shows it.
    else if (previous === null) {
      await vscode.window.showTextDocument(uri, { selection: range, preserveFocus: true, preview: true }).then(
        () => undefined,
        () => undefined,
      );
    }
  }

  private decorate(): void {
    const location = this.shown?.location;
    const uri = location && this.uriOf(location.document);
    this.highlighted = uri && location ? { uri, line: location.line } : undefined;
    for (const editor of vscode.window.visibleTextEditors) {
      const here = uri && location && editor.document.uri.toString() === uri.toString();
      editor.setDecorations(this.decoration, here ? [new vscode.Range(location.line, 0, location.line, 0)] : []);
    }
  }

  getChildren(node?: Node): Node[] {
    const stopped = this.shown;
    if (!stopped) return [];
    if (!node)
      return [
        { kind: 'group', label: 'Call Stack' },
        { kind: 'group', label: 'Variables' },
      ];
    if (node.kind !== 'group') return [];
    if (node.label === 'Call Stack') {
      const frames: Node[] = stopped.frames.map((frame, index) => ({ kind: 'frame', frame, index }));
      const more = (stopped.total_frames ?? 0) - stopped.frames.length;
      return more > 0 ? [...frames, { kind: 'more', label: `${more} more frames` }] : frames;
    }
    return stopped.variables.map((variable) => ({ kind: 'variable', variable }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
        item.id = node.label;
        if (node.label === 'Call Stack' && this.shown)
          item.description = `${reasonText[this.shown.reason]}${this.shown.description ? `: ${this.shown.description}` : ''}`;
        return item;
      }
      case 'frame': {
        const { frame } = node;
        const item = new vscode.TreeItem(frame.name || '(anonymous)');
        item.description = frame.document ? `${frame.document}:${frame.line + 1}` : `line ${frame.line + 1}`;
        item.iconPath = new vscode.ThemeIcon(node.index === 0 ? 'debug-stackframe' : 'debug-stackframe-dot');
        const uri = frame.document && this.uriOf(frame.document);
        if (uri) {
          const at = new vscode.Position(frame.line, frame.column);
          item.command = {
            command: 'vscode.open',
            title: 'Open',
            arguments: [uri, { selection: new vscode.Range(at, at), preserveFocus: false }],
          };
        }
        return item;
      }
      case 'variable': {
        const { variable } = node;
        const item = new vscode.TreeItem(variable.name);
        item.description = variable.value;
        item.tooltip = `${variable.name}${variable.type ? `: ${variable.type}` : ''} = ${variable.value}`;
        return item;
      }
      case 'more':
        return new vscode.TreeItem(node.label);
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.decoration.dispose();
    this.status.dispose();
    this.changed.dispose();
  }
}
