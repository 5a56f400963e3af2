/**
 * A bystander on its own thread (see `startBystander`): a host that opens a document, pings at a
 * steady rate and edits now and then, timing each pong. On a worker thread its clock measures the
 * relay, not the event loop of a test that is busy generating and sending thousands of frames.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { decodeServerFrame } from '../../protocol';

export interface BystanderOptions {
  /** The relay's WebSocket URL with the bystander's token. */
  url: string;
  intervalMs: number;
  document: string;
  /** The client id of its edits (seqs count from 0 for each). */
  clientId: string;
}

export interface BystanderReport {
  /** Round-trip time of each ping, in ms, in the order sent. */
  rtts: number[];
  acks: number;
  /** Every frame it received: event type and sender. */
  frames: Array<{ eventType: string; userId: string; sessionId?: string }>;
}

export interface Bystander {
  /** Stops pinging, waits for the pongs still due, and reports. */
  stop(): Promise<BystanderReport>;
}

/** Starts a bystander thread; resolves once it has the document open and pings. */
export async function startBystander(options: BystanderOptions, timeoutMs = 10_000): Promise<Bystander> {
  // A worker does not inherit tsx's loader hooks (Node 20): it registers tsx's CommonJS hook itself.
  const code = `require(${JSON.stringify(require.resolve('tsx/cjs'))}); require(${JSON.stringify(__filename)});`;
  const worker = new Worker(code, { eval: true, workerData: options });
  // Every message is kept: one posted while nobody waits (a failure mid-run) must not be lost.
  const inbox: unknown[] = [];
  let wake = () => {};
  worker.on('message', (message: unknown) => {
    inbox.push(message);
    wake();
  });
  worker.on('error', (error: Error) => {
    inbox.push({ error: error.message });
    wake();
  });
  const next = async (what: string): Promise<unknown> => {
    const deadline = Date.now() + timeoutMs;
    while (inbox.length === 0) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for the bystander ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    const message = inbox.shift();
    if (typeof message === 'object' && message !== null && 'error' in message) throw new Error(`bystander: ${String(message.error)}`);
    return message;
  };
  try {
    await next('to start');
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    stop: async () => {
      worker.postMessage('stop');
      try {
        return (await next('to report')) as BystanderReport;
      } finally {
        await worker.terminate();
      }
    },
  };
}

function run(options: BystanderOptions, port: NonNullable<typeof parentPort>): void {
  const socket = new WebSocket(options.url);
  const report: BystanderReport = { rtts: [], acks: 0, frames: [] };
  const sent = new Map<string, number>();
  let tick = 0;
  let rev: number | undefined;
  let editPending = false;
  let timer: NodeJS.Timeout | undefined;
  let stopping = false;
  let reported = false;
  const send = (eventType: string, payload: unknown) => socket.send(JSON.stringify({ event_type: eventType, payload }));
  const finish = () => {
    if (stopping && !reported && report.rtts.length === tick && !editPending) {
      reported = true;
      socket.close();
      port.postMessage(report);
    }
  };
  const beat = () => {
    const nonce = `b-${++tick}`;
    sent.set(nonce, performance.now());
    send('system.ping', { nonce });
    if (tick % 5 === 0 && !editPending && rev !== undefined) {
      editPending = true;
      send('collaboration.edit', { document: options.document, rev, client_id: options.clientId, seq: report.acks, op: ['.'] });
    }
  };
  socket.on('message', (data) => {
    const received = performance.now();
    const decoded = decodeServerFrame(data.toString());
    if (!decoded.ok) return port.postMessage({ error: `an invalid frame: ${data.toString().slice(0, 200)}` });
    const frame = decoded.frame;
    report.frames.push({ eventType: frame.event_type, userId: frame.user_id, ...(frame.session_id !== undefined && { sessionId: frame.session_id }) });
    if (frame.event_type === 'connect') send('collaboration.open', { document: options.document, text: 'calm' });
    else if (frame.event_type === 'collaboration.snapshot' && rev === undefined) {
      rev = frame.payload.rev;
      timer = setInterval(beat, options.intervalMs);
      port.postMessage('ready');
    } else if (frame.event_type === 'system.pong' && frame.payload.nonce !== undefined) {
      const at = sent.get(frame.payload.nonce);
      if (at !== undefined) report.rtts.push(received - at);
    } else if (frame.event_type === 'collaboration.ack') {
      rev = frame.payload.rev;
      report.acks++;
      editPending = false;
    }
    finish();
  });
  socket.on('error', (error) => port.postMessage({ error: error.message }));
  socket.on('close', (code) => {
    if (!stopping) port.postMessage({ error: `closed with ${code}` });
  });
  port.on('message', () => {
    stopping = true;
    clearInterval(timer);
    finish();
  });
}

if (parentPort && (workerData as BystanderOptions | undefined)?.url) run(workerData as BystanderOptions, parentPort);
