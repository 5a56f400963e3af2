import type * as vscode from 'vscode';
import type { DebugControlAction } from '../../protocol';
import type { DebugChannel } from './debug-channel';

/** How long a guest waits for the host's answer. */
const ANSWER_TIMEOUT_MS = 10_000;

export interface ControlOutcome {
  readonly ok: boolean;
  readonly message?: string;
}

/**
 * A guest's Continue / Step / Pause of the host's debugger: `debugging.control` to the host, whose
 * extension carries it out or refuses (`debugging.control_result`, to us only); no host connected
 * is the relay's `HOST_NOT_CONNECTED`. Editors only: the relay refuses viewers.
 */
export class GuestControl implements vscode.Disposable {
  private readonly pending = new Map<string, (outcome: ControlOutcome) => void>();
  private readonly subscriptions: vscode.Disposable[];
  private count = 0;

  constructor(private readonly channel: DebugChannel) {
    this.subscriptions = [
      channel.onDidAnswerControl((result) =>
        this.settle(result.request_id, { ok: result.ok, ...(result.message && { message: result.message }) }),
      ),
      channel.onDidRefuse((error) => error.request_id && this.settle(error.request_id, { ok: false, message: error.message })),
    ];
  }

  request(action: DebugControlAction): Promise<ControlOutcome> {
    const role = this.channel.role;
    if (role === undefined) return Promise.resolve({ ok: false, message: 'Not in a Tandem session.' });
    if (role === 'host') return Promise.resolve({ ok: false, message: 'You are the host: use your own debugger.' });
    if (role === 'viewer') return Promise.resolve({ ok: false, message: 'Viewers cannot control the host’s debugger.' });
    const requestId = `dbg-${Date.now().toString(36)}-${++this.count}`;
    const thread = this.channel.tracker.stopped?.thread_id;
    return new Promise<ControlOutcome>((resolve) => {
      const timer = setTimeout(() => this.settle(requestId, { ok: false, message: 'The host did not answer.' }), ANSWER_TIMEOUT_MS);
      this.pending.set(requestId, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      const sent = this.channel.send('debugging.control', {
        request_id: requestId,
        action,
        ...(thread !== undefined && action !== 'pause' && { thread_id: thread }),
      });
      if (!sent) this.settle(requestId, { ok: false, message: 'Not connected to the relay.' });
    });
  }

  private settle(requestId: string, outcome: ControlOutcome): void {
    const resolve = this.pending.get(requestId);
    this.pending.delete(requestId);
    resolve?.(outcome);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    for (const requestId of [...this.pending.keys()]) this.settle(requestId, { ok: false, message: 'Tandem is closing.' });
  }
}
