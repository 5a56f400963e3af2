import { type as textUnicode } from 'ot-text-unicode';
import { Connection, type Doc, types as sharedbTypes } from 'sharedb/lib/client';
import WebSocket from 'ws';
import { createNodeWsTransport, decodeClientFrame, encodeClientFrame, TextDocument, type TextOp, type Transport } from '../../protocol';
import { OtPeer } from '../../test/support/ot-peer';
import { monotonicMs } from '../clock';
import type { FromOtLoadgen, OtGo, OtResult, OtSetup, OtTarget, ToOtLoadgen } from './ot-ipc';

/**
 * The OT bench's load generator: a few editors on one document, on the relay (the protocol's
 * RelayClient + ClientDocument, as `OtPeer` wires them) or on ShareDB (its own client). Both
 * sides type the same single-character inserts at random places, each client keeping at most
 * one op in flight and composing what is typed meanwhile, as both client libraries do. The floor
 * (`floorEditor`) sends the same edit frames to a server that only forwards them.
 * One run per process: setup, then go, then the result.
 */

sharedbTypes.register(textUnicode);

/** Resolves once the message is handed to the channel (a disconnect right after a plain send may drop a large one). */
const send = (message: FromOtLoadgen) => new Promise<void>((resolve) => process.send!(message, undefined, undefined, () => resolve()));

interface Editor {
  /** The local text. */
  text(): string;
  /** Its length (UTF-16 code units), without building the text. */
  length(): number;
  /** Types `op`; `acked` runs once the server has committed it. */
  type(op: TextOp, acked: () => void): void;
  /** Revision of the document as this editor knows it. */
  revision(): number;
  problems(): string[];
  close(): void;
  /** False: the server acknowledges nothing (the floor); `type` never calls `acked`. */
  acknowledges?: boolean;
}

/** Remote inserts: editor index, inserted text. */
type OnRemote = (receiver: number, inserted: string) => void;

function insertedText(op: ReadonlyArray<unknown>): string {
  let text = '';
  for (const component of op) if (typeof component === 'string') text += component;
  return text;
}

/** The server editor `index` talks to: the servers in turn, when there are several. */
const serverOf = (setup: OtSetup, index: number) => (setup.urls?.length ? setup.urls[index % setup.urls.length]! : setup.url);

async function relayEditor(setup: OtSetup, index: number, onRemote: OnRemote): Promise<Editor> {
  const clientId = `editor-${index}`;
  const url = serverOf(setup, index);
  const peer = new OtPeer(url, setup.tokens[index]!, clientId, setup.document, setup.text);
  let inflight: Array<() => void> = [];
  let buffered: Array<() => void> = [];
  // Registered after OtPeer's own listener: by now the buffer (if any) has been sent.
  peer.client.on('collaboration.ack', (p) => {
    if (p.document !== setup.document) return;
    const done = inflight;
    inflight = buffered;
    buffered = [];
    for (const acked of done) acked();
  });
  peer.client.on('collaboration.edit', (p) => {
    if (p.document === setup.document && p.client_id !== clientId) onRemote(index, insertedText(p.op));
  });
  await peer.start();
  return {
    text: () => peer.text,
    length: () => peer.doc?.length ?? 0,
    type: (op, acked) => {
      const idle = peer.doc!.state === 'synchronized';
      peer.edit(op);
      (idle ? inflight : buffered).push(acked);
    },
    revision: () => peer.doc?.revision ?? 0,
    problems: () => peer.problems,
    close: () => peer.dispose(),
  };
}

const floorTransport = createNodeWsTransport(WebSocket);

/**
 * An editor on the floor (bench/ot/forward-server.ts): the same edit frames as the relay's
 * client, sent to a server that forwards them to the other editors as they are. Its timing path
 * matches `relayEditor`'s as far as a server with no OT allows:
 * - typing: the op is applied to the local text (`ClientDocument.applyLocal` does that too), then
 *   encoded by the protocol's `encodeClientFrame` (as `RelayClient.send` does) and sent on the same
 *   `ws` transport adapter (`createNodeWsTransport`, no compression);
 * - receiving: the frame is decoded and validated by the protocol's codec (`decodeClientFrame`,
 *   the same envelope parse and `EditPayload` schema the relay client's `decodeServerFrame` runs),
 *   then applied to two text documents, as `ClientDocument.applyServer` applies a remote op to its
 *   server copy and its local one, and only then timestamped (`onRemote`), as `relayEditor`'s
 *   listener runs after `OtPeer` has applied the op.
 * What it leaves out: the relay client's transform of a remote op against its own op in flight
 * (rare at 10 chars/s: an editor's op is acknowledged within a millisecond or two, its next
 * keystroke comes 100 ms later) and the op history it keeps. Without OT the texts drift apart
 * (an insert lands where the sender saw it, clamped to this text's length): only the timing counts.
 */
async function floorEditor(setup: OtSetup, index: number, onRemote: OnRemote): Promise<Editor> {
  const clientId = `editor-${index}`;
  const problems: string[] = [];
  const server = new TextDocument(setup.text);
  const local = new TextDocument(setup.text);
  let seq = 0;
  let transport: Transport | undefined;
  const url = `${setup.url}?doc=${encodeURIComponent(setup.document)}`;
  await new Promise<void>((resolve, reject) => {
    transport = floorTransport(url, {
      open: () => resolve(),
      message: (text) => {
        const decoded = decodeClientFrame(text);
        if (!decoded.ok || decoded.frame.event_type !== 'collaboration.edit') {
          problems.push(`${clientId}: unexpected frame ${text.slice(0, 80)}`);
          return;
        }
        const op = clamp(decoded.frame.payload.op, server.length);
        server.check(op);
        server.apply(op);
        local.apply(clamp(op, local.length));
        onRemote(index, insertedText(op));
      },
      close: (info) => {
        problems.push(`${clientId}: closed (${info.code})`);
        reject(new Error(`${clientId}: closed (${info.code})`));
      },
      error: (error) => problems.push(`${clientId}: ${error.message}`),
    });
  });
  return {
    text: () => local.toString(),
    length: () => local.length,
    type: (op) => {
      local.apply(op);
      transport!.send(encodeClientFrame('collaboration.edit', { document: setup.document, rev: 0, client_id: clientId, seq: ++seq, op }));
    },
    revision: () => 0,
    problems: () => problems,
    close: () => transport?.close(),
    acknowledges: false,
  };
}

/** A single-character insert moved inside a text of `length` (the floor's texts drift apart: nothing transforms). */
function clamp(op: TextOp, length: number): TextOp {
  const [first, second] = op;
  return typeof first === 'number' && first > length ? (length === 0 ? [second as string] : [length, second as string]) : op;
}

function call(f: (callback: (error?: Error) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => f((error) => (error ? reject(error) : resolve())));
}

async function sharedbEditor(setup: OtSetup, index: number, onRemote: OnRemote): Promise<Editor> {
  const socket = new WebSocket(serverOf(setup, index), { perMessageDeflate: false });
  const connection = new Connection(socket);
  const doc: Doc = connection.get('bench', setup.document);
  const problems: string[] = [];
  doc.on('error', (error) => problems.push(`editor-${index}: ${error.message}`));
  doc.on('op', (op, source) => {
    if (source === false) onRemote(index, insertedText(op));
  });
  await call((cb) => doc.subscribe(cb));
  if (!doc.type) await call((cb) => doc.create(setup.text, textUnicode.uri, cb));
  return {
    text: () => (typeof doc.data === 'string' ? doc.data : ''),
    length: () => (typeof doc.data === 'string' ? doc.data.length : 0),
    type: (op, acked) =>
      doc.submitOp(op, undefined, (error) => {
        if (error) problems.push(`editor-${index}: ${error.message}`);
        else acked();
      }),
    revision: () => doc.version ?? 0,
    problems: () => problems,
    close: () => connection.close(),
  };
}

/** An insert of `char` at a random place of a text of `length` (the texts here have no surrogate pairs). */
/** How each target's editors connect: the relay's client library, ShareDB's, or the floor's raw frames. */
const editorOf: Record<OtTarget, (setup: OtSetup, index: number, onRemote: OnRemote) => Promise<Editor>> = {
  relay: relayEditor,
  'relay-redis': relayEditor,
  sharedb: sharedbEditor,
  'sharedb-redis': sharedbEditor,
  floor: floorEditor,
};

function insertAt(length: number, char: string): TextOp {
  const pos = Math.floor(Math.random() * (length + 1));
  return pos === 0 ? [char] : [pos, char];
}

/** Distinct characters (CJK, one UTF-16 unit each): 1,500 per editor before they repeat. */
const PER_EDITOR = 1500;
const keyChar = (editor: number, n: number) => String.fromCharCode(0x4e00 + editor * PER_EDITOR + (n % PER_EDITOR));

const sleepUntil = (at: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, at - monotonicMs())));

async function run(setup: OtSetup, go: OtGo, editors: Editor[], sentAt: Map<string, number>, result: OtResult): Promise<void> {
  const windowStart = go.startAt + go.warmupMs;
  const windowEnd = windowStart + go.measureMs;
  const inWindow = (t: number) => t >= windowStart && t < windowEnd;
  let outstanding = 0;
  let revisionAtStart = 0;
  let revisionAtEnd = 0;
  const marks = Promise.all([
    sleepUntil(windowStart).then(() => (revisionAtStart = editors[0]!.revision())),
    sleepUntil(windowEnd).then(() => (revisionAtEnd = editors[0]!.revision())),
  ]);

  const typeOne = (editor: number, char: string, then?: () => void) => {
    const at = monotonicMs();
    const counted = inWindow(at);
    if (counted) result.typedInWindow++;
    if (editors[editor]!.acknowledges === false) {
      editors[editor]!.type(insertAt(editors[editor]!.length(), char), () => undefined);
      return { at, counted };
    }
    outstanding++;
    editors[editor]!.type(insertAt(editors[editor]!.length(), char), () => {
      outstanding--;
      const now = monotonicMs();
      if (inWindow(now)) result.ackedInWindow++;
      if (counted) result.ackLatencies.push(now - at);
      then?.();
    });
    return { at, counted };
  };

  await sleepUntil(go.startAt);
  const load = setup.load;
  if (load.mode === 'closed') {
    const loop = (editor: number) => {
      if (monotonicMs() < windowEnd) typeOne(editor, 'x', () => loop(editor));
    };
    for (let e = 0; e < editors.length; e++) for (let w = 0; w < load.window; w++) loop(e);
    await sleepUntil(windowEnd);
  } else {
    const interval = 1000 / load.rate;
    await Promise.all(
      editors.map(async (_, e) => {
        // Staggered: the editors' keystrokes are spread over the interval.
        let due = go.startAt + (e * interval) / editors.length;
        for (let n = 0; due < windowEnd; n++, due += interval) {
          await sleepUntil(due);
          const char = keyChar(e, n);
          const { at, counted } = typeOne(e, char);
          if (counted) {
            sentAt.set(char, at);
            result.expectedArrivals += editors.length - 1;
          } else sentAt.delete(char);
        }
      }),
    );
  }
  await marks;
  result.commitsInWindow = revisionAtEnd - revisionAtStart;
  const drainEnd = monotonicMs() + go.drainMs;
  // Until every ack and every remote arrival is in (the floor has only the latter), or the drain ends.
  while ((outstanding > 0 || result.arrivals < result.expectedArrivals) && monotonicMs() < drainEnd)
    await new Promise((resolve) => setTimeout(resolve, 10));
}

async function main(): Promise<void> {
  const setup = await nextMessage<OtSetup>('setup');
  const sentAt = new Map<string, number>();
  const result: OtResult = {
    type: 'result',
    typedInWindow: 0,
    ackedInWindow: 0,
    commitsInWindow: 0,
    latencies: [],
    expectedArrivals: 0,
    arrivals: 0,
    ackLatencies: [],
    problems: [],
  };
  const onRemote: OnRemote = (_receiver, inserted) => {
    if (sentAt.size === 0) return;
    const now = monotonicMs();
    for (const char of inserted) {
      const at = sentAt.get(char);
      if (at === undefined) continue;
      result.arrivals++;
      result.latencies.push(now - at);
    }
  };
  const editors: Editor[] = [];
  try {
    const open = editorOf[setup.target];
    // One after another: the first creates the document (ShareDB) or gives its text (relay).
    for (let i = 0; i < setup.editors; i++) editors.push(await open(setup, i, onRemote));
    await send({ type: 'ready' });
    const go = await nextMessage<OtGo>('go');
    await run(setup, go, editors, sentAt, result);
    result.problems = editors.flatMap((e) => e.problems()).slice(0, 20);
    await send(result);
  } finally {
    for (const editor of editors) editor.close();
  }
}

function nextMessage<T extends ToOtLoadgen>(type: T['type']): Promise<T> {
  return new Promise((resolve) => {
    const listener = (message: ToOtLoadgen) => {
      if (message.type !== type) return;
      process.off('message', listener);
      resolve(message as T);
    };
    process.on('message', listener);
  });
}

process.on('disconnect', () => process.exit(0));
main().then(
  () => process.disconnect(),
  async (error: unknown) => {
    process.exitCode = 1;
    await send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.disconnect();
  },
);
