import { type BenchClient, openBenchClient } from './bench-client';
import { monotonicMs } from './clock';
import type { ClientGroup, CollectResult, Driver, FromLoadgen, PublishResult, RunSpec, ToLoadgen } from './ipc';

/**
 * The load generator: a process of its own, driven over IPC by `run.ts`. It holds the receiving
 * clients (and, in one process, the publisher), counts every frame without parsing it, and reads
 * the send time of one frame in `sampleEvery` per client with `indexOf`, never `JSON.parse`.
 */

const STAMP = '@T';
const STAMP_BYTES = Buffer.from(STAMP);
const STAMP_END = 64; // '@'

interface Receiver {
  client: BenchClient;
  index: number;
  /** Frames since the current run started. */
  frames: number;
  open: boolean;
}

const receivers: Receiver[] = [];
let publisher: Receiver | undefined;
let driver: Driver = 'typed';

// The current run's state, shared by every client's frame hook.
let total = 0;
let sampleEvery = 20;
let windowStart = Infinity;
let windowEnd = -Infinity;
let latencies: number[] = [];
/** The sampled frames of other publishers (only when tagged): in the scale-out bench, those that crossed servers. */
let otherLatencies: number[] = [];
let closedDuringRun = 0;
let running = false;
/** Frames the publisher got back (its own messages, echoed): the closed loop's acknowledgements. */
let echoed = 0;
let onEcho: (() => void) | undefined;
/** Size of the last frame echoed to the publisher: what the server delivers. */
let lastEchoBytes = 0;
/** The current run's publisher tag (see RunSpec.publisherTag), as it starts the content; '' when alone. */
let ownMarker = '';
let ownMarkerBytes = Buffer.alloc(0);
/** Frames received inside the measured window (by arrival), all clients together. */
let receivedInWindow = 0;

function send(message: FromLoadgen): void {
  process.send?.(message);
}

/** The send time in `data[start, end)`, or NaN. Works on text (typed driver) and Buffers. */
function readStamp(data: string | Buffer, start: number, end: number): number {
  const at = typeof data === 'string' ? data.indexOf(STAMP, start) : data.indexOf(STAMP_BYTES, start);
  if (at < 0 || at >= end) return NaN;
  if (typeof data === 'string') return Number(data.slice(at + 2, data.indexOf('@', at + 2))) / 1000;
  let value = 0;
  for (let i = at + 2; i < end; i++) {
    const byte = data[i]!;
    if (byte === STAMP_END) break;
    value = value * 10 + (byte - 48);
  }
  return value / 1000;
}

/** Whether a frame the publisher got is one of its own messages (always, when it publishes alone). */
function isOwn(data: string | Buffer | undefined, start: number, end: number): boolean {
  if (ownMarker === '' || data === undefined) return true;
  const at = typeof data === 'string' ? data.indexOf(ownMarker, start) : data.indexOf(ownMarkerBytes, start);
  return at >= 0 && at < end;
}

function onFrame(receiver: Receiver, data: string | Buffer | undefined, start: number, end: number): void {
  total++;
  const n = ++receiver.frames;
  // A frame split across reads (`wire`) is counted but not sampled; the next one is.
  if ((n + receiver.index) % sampleEvery !== 0 || data === undefined) return;
  const now = monotonicMs();
  const sentAt = readStamp(data, start, end);
  if (!(sentAt >= windowStart && sentAt < windowEnd)) return;
  latencies.push(now - sentAt);
  if (ownMarker !== '' && !isOwn(data, start, end)) otherLatencies.push(now - sentAt);
}

function connect(url: string, groups: ClientGroup[], concurrency: number, timeoutMs: number, asPublisher: boolean): Promise<void> {
  const started = monotonicMs();
  const targets = groups.flatMap((group) => Array.from({ length: group.count }, () => group));
  let next = 0;
  let pending = 0;
  let failed = 0;
  let opened = 0;
  let firstError: string | undefined;
  return new Promise((resolve) => {
    const timer = setTimeout(finish, timeoutMs);
    function finish(): void {
      clearTimeout(timer);
      send({
        type: 'connected',
        clients: opened,
        failed: failed + (targets.length - opened - failed),
        firstError,
        elapsedMs: monotonicMs() - started,
      });
      resolve();
    }
    function settle(): void {
      pending--;
      if (opened + failed === targets.length) finish();
      else pump();
    }
    function pump(): void {
      while (pending < concurrency && next < targets.length) {
        const group = targets[next]!;
        const receiver: Receiver = { client: undefined as unknown as BenchClient, index: receivers.length, frames: 0, open: false };
        next++;
        pending++;
        let settled = false;
        const kind: Driver = asPublisher ? publisherDriver(driver) : driver;
        receiver.client = openBenchClient(
          kind,
          { url, token: group.token, session: group.session },
          {
            open: () => {
              receiver.open = true;
            },
            frame: (data, start, end) => {
              // Ready at the server's hello (the relay's `connect`, the plain server's hello): by
              // then the server has the connection in its session.
              if (!settled) {
                settled = true;
                opened++;
                settle();
                return;
              }
              onFrame(receiver, data, start, end);
              if (receiver === publisher && isOwn(data, start, end)) {
                echoed++;
                lastEchoBytes = end - start;
                onEcho?.();
              }
            },
            closed: (reason) => {
              receiver.open = false;
              if (running) closedDuringRun++;
              if (!settled) {
                settled = true;
                failed++;
                firstError ??= reason;
                settle();
              }
            },
          },
        );
        if (asPublisher) publisher = receiver;
        receivers.push(receiver);
      }
    }
    if (targets.length === 0) finish();
    else pump();
  });
}

/** The publisher must send: the receive-only drivers have a sending sibling. */
function publisherDriver(receivers: Driver): Driver {
  if (receivers === 'raw') return 'raw';
  if (receivers === 'sio' || receivers === 'sio-wire') return 'sio';
  return 'typed';
}

async function quiesce(quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = monotonicMs() + timeoutMs;
  let lastFrameAt = monotonicMs();
  let seen = total;
  for (;;) {
    await sleep(Math.min(50, quietMs));
    if (total !== seen) {
      seen = total;
      lastFrameAt = monotonicMs();
    }
    const now = monotonicMs();
    if (now - lastFrameAt >= quietMs) return send({ type: 'quiet', ok: true });
    if (now > deadline) return send({ type: 'quiet', ok: false });
  }
}

function content(seq: number, sentAt: number, chars: number): string {
  const head = `${ownMarker || 'bench '}${seq} ${STAMP}${Math.round(sentAt * 1000)}@ `;
  return head + 'x'.repeat(Math.max(0, chars - head.length));
}

function frameFor(seq: number, sentAt: number, chars: number): string {
  return `{"event_type":"chat.message","payload":{"content":"${content(seq, sentAt, chars)}"}}`;
}

async function run(spec: RunSpec): Promise<void> {
  total = 0;
  echoed = 0;
  closedDuringRun = 0;
  latencies = [];
  otherLatencies = [];
  sampleEvery = spec.sampleEvery;
  ownMarker = spec.publisherTag ? `bench ${spec.publisherTag}:` : '';
  ownMarkerBytes = Buffer.from(ownMarker);
  for (const receiver of receivers) receiver.frames = 0;
  windowStart = spec.startAt + spec.warmupMs;
  windowEnd = windowStart + spec.measureMs;
  running = true;
  await sleep(Math.max(0, spec.startAt - monotonicMs()));
  let totalAtWindowStart = 0;
  let totalAtWindowEnd = 0;
  const windowMarks = Promise.all([
    sleep(windowStart - monotonicMs()).then(() => (totalAtWindowStart = total)),
    sleep(windowEnd - monotonicMs()).then(() => (totalAtWindowEnd = total)),
  ]);
  const publish = publisher
    ? await (spec.load.mode === 'open' ? openLoop(spec, spec.load.rate) : closedLoop(spec, spec.load.window))
    : undefined;
  await windowMarks;
  receivedInWindow = totalAtWindowEnd - totalAtWindowStart;
  send({ type: 'ran', ...(publish && { publish }) });
}

/** Sends on an absolute schedule (message i at start + i/rate), catching up in batches when late. */
function openLoop(spec: RunSpec, rate: number): Promise<PublishResult> {
  const client = publisher!.client;
  const interval = 1000 / rate;
  const start = spec.startAt;
  const end = windowEnd;
  const lags: number[] = [];
  let seq = 0;
  let sentInWindow = 0;
  let publishFrameBytes = 0;
  return new Promise((resolve) => {
    const tick = (): void => {
      const now = monotonicMs();
      const due = Math.min(Math.floor((Math.min(now, end) - start) / interval) + 1, Math.ceil((end - start) / interval));
      while (seq < due) {
        const planned = start + seq * interval;
        const sentAt = monotonicMs();
        const frame = frameFor(seq, sentAt, spec.contentChars);
        publishFrameBytes = frame.length;
        client.send(frame);
        lags.push(sentAt - planned);
        if (sentAt >= windowStart && sentAt < windowEnd) sentInWindow++;
        seq++;
      }
      if (now >= end) {
        lags.sort((a, b) => a - b);
        resolve({
          sent: seq,
          sentInWindow,
          lagP99Ms: lags[Math.floor(lags.length * 0.99)] ?? 0,
          lagMaxMs: lags[lags.length - 1] ?? 0,
          publishFrameBytes,
          deliveredFrameBytes: lastEchoBytes,
        });
        return;
      }
      const nextAt = start + seq * interval;
      setTimeout(tick, Math.max(0, Math.min(nextAt, end) - monotonicMs()));
    };
    tick();
  });
}

/** As fast as the server answers: at most `window` messages sent and not yet echoed to the publisher. */
function closedLoop(spec: RunSpec, window: number): Promise<PublishResult> {
  const client = publisher!.client;
  let seq = 0;
  let sentInWindow = 0;
  let publishFrameBytes = 0;
  return new Promise((resolve) => {
    let done = false;
    const pump = (): void => {
      if (done) return;
      while (seq - echoed < window) {
        const sentAt = monotonicMs();
        if (sentAt >= windowEnd) return finish();
        const frame = frameFor(seq, sentAt, spec.contentChars);
        publishFrameBytes = frame.length;
        if (!client.send(frame)) return finish();
        if (sentAt >= windowStart) sentInWindow++;
        seq++;
      }
    };
    const finish = (): void => {
      if (done) return;
      done = true;
      onEcho = undefined;
      clearTimeout(stopTimer);
      resolve({ sent: seq, sentInWindow, lagP99Ms: 0, lagMaxMs: 0, publishFrameBytes, deliveredFrameBytes: lastEchoBytes });
    };
    const stopTimer = setTimeout(finish, windowEnd - monotonicMs());
    onEcho = pump;
    pump();
  });
}

async function collect(expectedPerClient: number, timeoutMs: number): Promise<void> {
  const deadline = monotonicMs() + timeoutMs;
  const expected = () => receivers.filter((r) => r.open).length * expectedPerClient;
  while (total < expected() && monotonicMs() < deadline) await sleep(20);
  running = false;
  const result: CollectResult = {
    type: 'collected',
    clients: receivers.length,
    received: total,
    receivedInWindow,
    latencies,
    ...(ownMarker !== '' && { otherLatencies }),
    closed: closedDuringRun,
  };
  send(result);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

process.on('message', (message: ToLoadgen) => {
  const handle = async (): Promise<void> => {
    switch (message.type) {
      case 'connect':
        driver = message.driver;
        return connect(message.url, message.groups, message.concurrency, message.timeoutMs, message.publisher === true);
      case 'quiesce':
        return quiesce(message.quietMs, message.timeoutMs);
      case 'run':
        return run(message.spec);
      case 'collect':
        return collect(message.expectedPerClient, message.timeoutMs);
      case 'exit':
        for (const receiver of receivers) receiver.client.close();
        process.exit(0);
    }
  };
  handle().catch((error: unknown) => {
    send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exit(1);
  });
});

process.on('disconnect', () => process.exit(0));
