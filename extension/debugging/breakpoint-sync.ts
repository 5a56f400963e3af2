import * as vscode from 'vscode';
import type { Breakpoint, BreakpointAction } from '../../protocol';
import type { Log } from '../log';
import type { AppliedBreakpoint, DebugChannel } from './debug-channel';
import { evaluatesCode, fromWire, sameBreakpoint, sameSettings, toWire } from './breakpoint-convert';

/** Which files are the session's: the same document ids (wire paths) the shared documents use. */
export interface DebugFiles {
  /** The document id of a file of the session (host: in its shared folder; guest: a `tandem:` file), or undefined. */
  documentIdOf(uri: vscode.Uri): Promise<string | undefined>;
  /** Where a document id lives in this window, or undefined (not shared, no session). */
  uriOf(documentId: string): vscode.Uri | undefined;
}

/** One shared breakpoint: its wire id, the VS Code breakpoint that shows it here, and its state on the relay as we know it. */
interface Link {
  readonly id: string;
  bp: vscode.SourceBreakpoint;
  wire: Breakpoint;
}

/**
 * Keeps VS Code's breakpoints in the session's files in step with the session's breakpoint set,
 * both ways.
 *
 * - **No echo.** Each shared breakpoint is linked to one VS Code breakpoint (by its id). A change
 *   VS Code reports is sent only when the breakpoint now differs from what the relay has (`wire`);
 *   what we apply ourselves is linked (or unlinked) before VS Code reports it, and then equals it.
 *   VS Code has no update: a remote change replaces the VS Code breakpoint (remove + add).
 * - **Moves.** VS Code moves a breakpoint when the text above it changes (in a file an editor
 *   shows). A change in place only is reported by the host alone (`update`), as the relay expects;
 *   a guest's VS Code moves its copy with the same edits and takes the host's update, which then
 *   changes nothing. A user moves a breakpoint by removing and adding one, which everyone sends.
 * - **After connect.** The relay's set (`debugging.state`) wins for the breakpoints it knows;
 *   those we linked earlier and it no longer has were removed while we were away. Ours that it
 *   does not know (set before the session, or while disconnected) are sent; one at the place of
 *   a breakpoint it knows is taken as that one (after a window reload, VS Code kept it). A relay
 *   with no state (a new session, or one that lost it) gets all of ours.
 * - **Host safety.** Conditions and log messages are expressions the host's debugger evaluates in
 *   the host's program. With `tandem.allowGuestDebugControl` off, a breakpoint whose last change
 *   came from a guest and carries one is shown disabled on the host (enabling it accepts it).
 * - Viewers get the session's breakpoints; theirs stay their own (the relay refuses them).
 */
export class BreakpointSync implements vscode.Disposable {
  private readonly links = new Map<string, Link>();
  private readonly byVsId = new Map<string, string>();
  /** Who last changed each shared breakpoint. */
  private readonly authors = new Map<string, string>();
  /**
   * VS Code breakpoints we removed ourselves. The renderer may still report one of them as added
   * (its add was on the way when we removed it) and then as removed: neither is the user's.
   */
  private readonly removedByUs = new Set<string>();
  /** Local changes that could not be sent (no connection): sent after the next connect. */
  private readonly unsent = new Map<string, Breakpoint | null>();
  private readonly subscriptions: vscode.Disposable[];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Links changed (for tests). */
  readonly onDidChange = this.changed.event;

  constructor(
    private readonly channel: DebugChannel,
    private readonly files: DebugFiles,
    private readonly allowGuestExpressions: () => boolean,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.debug.onDidChangeBreakpoints((event) => this.onLocalChange(event)),
      channel.onDidChangeBreakpoint((applied) => this.onRemote(applied)),
      channel.onDidSettle(({ hadState }) => void this.onSettled(hadState).catch((error) => log.error('breakpoints after connect', error))),
    ];
  }

  /** The wire id of a VS Code breakpoint that is shared, for tests. */
  wireIdOf(breakpoint: vscode.Breakpoint): string | undefined {
    return this.byVsId.get(breakpoint.id);
  }

  /** The VS Code breakpoint that shows a shared one here. */
  breakpointOf(id: string): vscode.SourceBreakpoint | undefined {
    return this.links.get(id)?.bp;
  }

  /** The session ended: forget the links. A guest's breakpoints in the session's files go with it; the host keeps its own. */
  clear(removeLocal: boolean): void {
    const breakpoints = [...this.links.values()].map((link) => link.bp);
    this.links.clear();
    this.byVsId.clear();
    this.authors.clear();
    this.unsent.clear();
    if (removeLocal && breakpoints.length > 0) this.removeOurs(breakpoints);
    this.changed.fire();
  }

  private get mayChange(): boolean {
    const role = this.channel.role;
    return role === 'host' || role === 'editor';
  }

  private onLocalChange(event: vscode.BreakpointsChangeEvent): void {
    if (!this.channel.role) return;
    for (const bp of event.removed) {
      if (this.removedByUs.has(bp.id)) continue;
      const id = this.byVsId.get(bp.id);
      if (id === undefined) continue;
      const link = this.links.get(id)!;
      this.unlink(link);
      this.send('remove', link.wire);
    }
    for (const bp of event.changed) {
      const id = this.byVsId.get(bp.id);
      if (id === undefined || !(bp instanceof vscode.SourceBreakpoint)) continue;
      this.onLocalUpdate(this.links.get(id)!);
    }
    for (const bp of event.added) {
      if (bp instanceof vscode.SourceBreakpoint && !this.byVsId.has(bp.id) && !this.removedByUs.has(bp.id)) void this.share(bp);
    }
  }

  private onLocalUpdate(link: Link): void {
    const local = toWire(link.bp, link.id, link.wire.document);
    const expected = this.localForm(link.wire);
    if (sameBreakpoint(local, expected)) return;
    // Moved with the text: only the host reports it (see above); a guest's copy follows the host's update.
    if (sameSettings(local, expected) && this.channel.role !== 'host') return;
    link.wire = local;
    this.authors.set(link.id, this.channel.userId ?? '');
    this.send('update', local);
  }

  /** A breakpoint the user set: shared if it is in one of the session's files. */
  private async share(bp: vscode.SourceBreakpoint, id = newId()): Promise<void> {
    if (!this.mayChange) return;
    const document = await this.files.documentIdOf(bp.location.uri);
    if (document === undefined || this.byVsId.has(bp.id) || !vscode.debug.breakpoints.includes(bp)) return;
    const wire = toWire(bp, id, document);
    this.link({ id, bp, wire });
    this.authors.set(id, this.channel.userId ?? '');
    this.send('add', wire);
  }

  private onRemote({ change, userId }: AppliedBreakpoint): void {
    this.authors.set(change.breakpoint.id, userId);
    if (this.unsent.has(change.breakpoint.id)) return;
    this.reconcile(change.breakpoint.id);
  }

  /** Makes VS Code show what the relay has of `id`. */
  private reconcile(id: string): void {
    const desired = this.channel.tracker.breakpoints.find((b) => b.id === id);
    const link = this.links.get(id);
    if (!desired) {
      if (!link) return;
      this.unlink(link);
      this.removeOurs([link.bp]);
      return;
    }
    const target = this.localForm(desired);
    if (link && sameBreakpoint(toWire(link.bp, id, desired.document), target)) {
      link.wire = desired;
      return;
    }
    const uri = this.files.uriOf(desired.document);
    if (link) {
      this.unlink(link);
      this.removeOurs([link.bp]);
    }
    if (!uri) return;
    const bp = fromWire(target, uri);
    this.link({ id, bp, wire: desired });
    vscode.debug.addBreakpoints([bp]);
  }

  /** How a relay breakpoint shows here: on the host, a guest's code-running one arrives disabled unless guests are trusted. */
  private localForm(wire: Breakpoint): Breakpoint {
    if (this.channel.role !== 'host' || !wire.enabled || !evaluatesCode(wire) || this.allowGuestExpressions()) return wire;
    return this.authors.get(wire.id) === this.channel.userId ? wire : { ...wire, enabled: false };
  }

  private async onSettled(hadState: boolean): Promise<void> {
    // Ours, in the session's files: linked ones and the others.
    const local: Array<{ bp: vscode.SourceBreakpoint; document: string }> = [];
    for (const bp of vscode.debug.breakpoints) {
      if (!(bp instanceof vscode.SourceBreakpoint) || this.byVsId.has(bp.id)) continue;
      const document = await this.files.documentIdOf(bp.location.uri);
      if (document !== undefined) local.push({ bp, document });
    }
    if (!this.channel.isSettled) return;
    // Changes made while away go first: they are newer than the relay's.
    for (const [id, removed] of [...this.unsent]) {
      this.unsent.delete(id);
      const link = this.links.get(id);
      if (link) this.send('add', (link.wire = toWire(link.bp, id, link.wire.document)));
      else if (removed) this.send('remove', removed);
    }
    if (!hadState) {
      for (const link of this.links.values()) this.send('add', (link.wire = toWire(link.bp, link.id, link.wire.document)));
      for (const { bp } of local) await this.share(bp);
      return;
    }
    const known = this.channel.tracker.breakpoints;
    for (const link of [...this.links.values()]) {
      if (!known.some((b) => b.id === link.id)) this.reconcile(link.id);
    }
    for (const wire of known) {
      if (!this.links.has(wire.id)) {
        // After a window reload VS Code still has it: the one at its place is it.
        const at = local.findIndex(({ bp, document }) => document === wire.document && bp.location.range.start.line === wire.line);
        if (at >= 0) {
          this.link({ id: wire.id, bp: local[at]!.bp, wire });
          this.authors.set(wire.id, this.channel.userId ?? '');
          local.splice(at, 1);
        }
      }
      this.reconcile(wire.id);
    }
    for (const { bp } of local) await this.share(bp);
  }

  private send(action: BreakpointAction, breakpoint: Breakpoint): void {
    if (!this.mayChange) return;
    if (this.channel.send('debugging.breakpoint', { action, breakpoint })) return;
    this.unsent.set(breakpoint.id, action === 'remove' ? breakpoint : null);
    this.log.info(`breakpoint ${action} of ${breakpoint.document}:${breakpoint.line + 1} goes after the next connect`);
  }

  private removeOurs(breakpoints: vscode.Breakpoint[]): void {
    for (const bp of breakpoints) this.removedByUs.add(bp.id);
    // Bounded: a late report comes within moments, not after a thousand more changes.
    for (const id of this.removedByUs) {
      if (this.removedByUs.size <= 1000) break;
      this.removedByUs.delete(id);
    }
    vscode.debug.removeBreakpoints(breakpoints);
  }

  private link(link: Link): void {
    this.links.set(link.id, link);
    this.byVsId.set(link.bp.id, link.id);
    this.changed.fire();
  }

  private unlink(link: Link): void {
    this.links.delete(link.id);
    this.byVsId.delete(link.bp.id);
    this.changed.fire();
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.changed.dispose();
  }
}

function newId(): string {
  return `bp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}
