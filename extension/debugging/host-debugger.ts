import * as vscode from 'vscode';
import type { DebugControlAction, DebugControlOut, StoppedPayload } from '../../protocol';
import type { Log } from '../log';
import type { DebugChannel } from './debug-channel';
import { captureStopped, type DapStopped } from './stopped-capture';

/** The Debug Adapter Protocol request of each control action. */
const requests: Record<DebugControlAction, string> = {
  continue: 'continue',
  step_over: 'next',
  step_in: 'stepIn',
  step_out: 'stepOut',
  pause: 'pause',
};
/** Requests whose success means the thread runs again (an adapter sends no `continued` event for them). */
const resuming = new Set(['continue', 'next', 'stepIn', 'stepOut', 'stepBack', 'reverseContinue', 'goto', 'restartFrame']);

interface DapMessage {
  type: string;
  event?: string;
  command?: string;
  success?: boolean;
  body?: { threadId?: number; allThreadsContinued?: boolean } & DapStopped;
}

/**
 * The host's side of co-debugging. It watches every debug session of this window through a debug
 * adapter tracker (the Debug Adapter Protocol's `stopped`, `continued`, `terminated` events, and
 * the responses to requests that resume), and tells the session where it stopped (location in a
 * shared file or null, stack, the top frame's variables) and when it runs or ends again; after a
 * reconnect it says again where it is stopped. It carries out the guests' `debugging.control`
 * when `tandem.allowGuestDebugControl` lets it, and answers each.
 */
export class HostDebugger implements vscode.Disposable {
  private current: { session: vscode.DebugSession; payload: StoppedPayload } | undefined;
  /** Bumped by every stop and run: a stack read that finishes after the thread ran on is dropped. */
  private generation = 0;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly channel: DebugChannel,
    private readonly documentIdOf: (uri: vscode.Uri) => Promise<string | undefined>,
    private readonly allowControl: () => boolean,
    private readonly log: Log,
  ) {
    this.subscriptions = [
      vscode.debug.registerDebugAdapterTrackerFactory('*', {
        createDebugAdapterTracker: (session) => ({
          onDidSendMessage: (message: DapMessage) => this.onMessage(session, message),
        }),
      }),
      vscode.debug.onDidTerminateDebugSession((session) => this.onRunning(session, 'ended')),
      channel.onDidSettle(() => {
        if (this.current && this.isHost) this.channel.send('debugging.stopped', this.current.payload);
      }),
      channel.onDidRequestControl((request) => void this.control(request)),
    ];
  }

  /** Where this window's debugger is stopped, as sent (for tests). */
  get stopped(): StoppedPayload | undefined {
    return this.current?.payload;
  }

  private get isHost(): boolean {
    return this.channel.role === 'host';
  }

  private onMessage(session: vscode.DebugSession, message: DapMessage): void {
    if (message.type === 'event') {
      if (message.event === 'stopped') void this.onStopped(session, message.body ?? {});
      else if (message.event === 'continued') this.onRunning(session, 'continued', message.body?.threadId);
      else if (message.event === 'terminated' || message.event === 'exited') this.onRunning(session, 'ended');
    } else if (message.type === 'response' && message.success && message.command && resuming.has(message.command)) {
      this.onRunning(session, 'continued');
    }
  }

  private async onStopped(session: vscode.DebugSession, event: DapStopped): Promise<void> {
    const generation = ++this.generation;
    const threadId = event.threadId ?? this.current?.payload.thread_id ?? (await firstThread(session));
    if (threadId === undefined) return;
    try {
      const payload = await captureStopped(session, event, threadId, this.documentIdOf);
      if (generation !== this.generation) return;
      this.current = { session, payload };
      if (this.isHost) this.channel.send('debugging.stopped', payload);
    } catch (error) {
      if (generation === this.generation) this.log.warn(`could not read where the debugger stopped: ${String(error)}`);
    }
  }

  private onRunning(session: vscode.DebugSession, reason: 'continued' | 'ended', threadId?: number): void {
    const current = this.current;
    if (current && current.session.id !== session.id) return;
    // A `continued` of another thread leaves the stopped one stopped.
    if (current && threadId !== undefined && reason === 'continued' && threadId !== current.payload.thread_id) return;
    this.generation++;
    if (!current) return;
    this.current = undefined;
    if (this.isHost) this.channel.send('debugging.continued', { reason, thread_id: current.payload.thread_id });
  }

  private async control(request: DebugControlOut): Promise<void> {
    if (!this.isHost) return;
    const answer = (ok: boolean, message?: string) =>
      this.channel.send('debugging.control_result', {
        request_id: request.request_id,
        requester: request.requester,
        ok,
        ...(message !== undefined && { message }),
      });
    this.log.info(`a guest (${request.requester}) asks the debugger to ${request.action}`);
    if (!this.allowControl()) {
      return void answer(false, 'The host does not let guests control its debugger (setting tandem.allowGuestDebugControl).');
    }
    const session = this.current?.session ?? vscode.debug.activeDebugSession;
    if (!session) return void answer(false, 'The host is not debugging.');
    if (request.action !== 'pause' && !this.current) return void answer(false, 'The host’s debugger is not stopped.');
    if (request.action === 'pause' && this.current) return void answer(false, 'The host’s debugger is already stopped.');
    try {
      const threadId = request.thread_id ?? this.current?.payload.thread_id ?? (await firstThread(session));
      if (threadId === undefined) return void answer(false, 'The host’s debugger has no thread to pause.');
      await session.customRequest(requests[request.action], { threadId });
      answer(true);
    } catch (error) {
      answer(false, `The host’s debugger refused: ${error instanceof Error ? error.message : String(error)}`.slice(0, 1000));
    }
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}

async function firstThread(session: vscode.DebugSession): Promise<number | undefined> {
  try {
    const { threads } = (await session.customRequest('threads')) as { threads?: Array<{ id: number }> };
    return threads?.[0]?.id;
  } catch {
    return undefined;
  }
}
