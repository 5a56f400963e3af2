/**
 * Frames generated from the protocol's own JSON Schemas (valid ones, and mutations of them) at a
 * relay process, while a bystander in another session keeps working. Each frame is judged first
 * by an oracle that does not use the relay's code (Ajv on protocol/json, the wire rules): frames
 * it refuses go on one connection, whose every error must be the expected one, one per frame;
 * frames it accepts go on a host's and a viewer's connections, where a domain error is fine and an
 * INTERNAL is a bug. The relay runs in its own process so the bystander's ping times measure the
 * relay. The seed is printed; FUZZ_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeClientFrame, type ServerFrame } from '../../../protocol';
import { ensureRelayBuilt } from '../../support/cli';
import { clientFrame, httpRequest, openDocument, openTestClient, type TestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { type GeneratedFrame, loadProtocolSchemas, validFrameArbitrary } from '../../support/schema-arbitrary';
import { mutatedFrameArbitrary, type WireFrame } from '../../support/schema-mutations';
import { SchemaOracle, type Verdict } from '../../support/schema-oracle';
import { within } from '../../support/wait';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);
const VALID = 2000;
const MUTATED = 4000;
/** Frames sent before the fuzzer waits for its own pongs: the relay's backlog stays this small. */
const BATCH = 25;
const PING_INTERVAL_MS = 20;
const P99_LIMIT_MS = 100;
const FRAME_BYTES = 64 * 1024;
const limits = { frameBytes: FRAME_BYTES, hardFrameBytes: 4 * FRAME_BYTES };

/** Codes only the gateway's checks give: a frame the oracle accepts must never get one. */
const CODEC_CODES = new Set(['BAD_JSON', 'BINARY_NOT_SUPPORTED', 'UNKNOWN_EVENT', 'WRONG_DIRECTION', 'FRAME_TOO_LARGE']);

type ErrorFrame = Extract<ServerFrame, { event_type: 'error' }>;
interface Judged extends WireFrame {
  verdict: Verdict;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A host in its own session: opens a document, pings at a steady rate and edits now and then. */
class Bystander {
  readonly rtts: number[] = [];
  private sent = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private tick = 0;
  private rev = 0;
  private editPending = false;
  acks = 0;

  constructor(readonly client: TestClient) {
    client.socket.on('message', () => this.onFrame());
  }

  async start(): Promise<void> {
    this.rev = (await openDocument(this.client, 'calm.md', 'calm')).rev;
    this.timer = setInterval(() => this.beat(), PING_INTERVAL_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private beat(): void {
    const nonce = `b-${++this.tick}`;
    this.sent.set(nonce, performance.now());
    this.client.send(clientFrame('system.ping', { nonce }));
    if (this.tick % 5 === 0 && !this.editPending) {
      this.editPending = true;
      this.client.send(clientFrame('collaboration.edit', { document: 'calm.md', rev: this.rev, client_id: 'calm-1', seq: this.acks, op: ['.'] }));
    }
  }

  /** TestClient recorded the frame before this listener runs (it was added first). */
  private onFrame(): void {
    const frame = this.client.frames.at(-1);
    if (frame?.event_type === 'system.pong' && frame.payload.nonce !== undefined) {
      const at = this.sent.get(frame.payload.nonce);
      if (at !== undefined) this.rtts.push(performance.now() - at);
    } else if (frame?.event_type === 'collaboration.ack') {
      this.rev = frame.payload.rev;
      this.acks++;
      this.editPending = false;
    }
  }
}

describe('schema fuzz: generated and mutated frames at a relay process, a bystander working beside them', () => {
  let relay: RelayProcess;
  before(async () => {
    ensureRelayBuilt();
    relay = await RelayProcess.start({
      // The fuzzer is paced by its own pongs; the message rate limit has its own tests.
      WS_MAX_MESSAGES_PER_SECOND: '1000000',
      WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: '100000',
      WS_MAX_FRAME_BYTES: String(FRAME_BYTES),
    });
  });
  after(() => relay.stop());

  const connect = (user: string, role: 'host' | 'editor' | 'viewer', session: string) =>
    openTestClient(`${relay.url}?token=${relay.token({ user, role, sessions: [session] })}`);

  it('answers every refused frame with its error, never INTERNAL, stays up, and the bystander sees nothing and stays fast', async () => {
    console.log(`schema fuzz seed ${SEED} (FUZZ_SEED=${SEED} replays it)`);
    const schemas = loadProtocolSchemas();
    const oracle = new SchemaOracle(schemas, limits);
    // Half the document names from a few, so that edits and cursors meet documents that were opened.
    const valid = validFrameArbitrary(schemas, ['fuzz'], { hints: { document: fc.constantFrom('a.md', 'b.ts', 'c/d.txt') } });
    const generated = fc.sample(valid, { seed: SEED, numRuns: VALID });
    const mutated = fc.sample(mutatedFrameArbitrary(valid, schemas, limits), { seed: SEED + 1, numRuns: MUTATED });
    // Interleaved: two mutated frames, then a valid one.
    const frames: Judged[] = [];
    generated.forEach((g: GeneratedFrame, i) => {
      for (const m of mutated.slice(2 * i, 2 * i + 2)) frames.push({ ...m, verdict: oracle.judge(m) });
      const data = JSON.stringify(g.frame);
      frames.push({ label: `valid ${g.eventType}`, data, verdict: oracle.judge({ label: '', data }) });
    });
    assert.deepEqual(
      generated.map((g) => oracle.judge({ label: '', data: JSON.stringify(g.frame) }).kind).filter((k) => k !== 'accept'),
      [],
      'every generated frame is valid by the schemas',
    );
    // The codec (zod) and the exported schemas (Ajv) agree on every frame both can judge.
    const disagreements = frames.flatMap((f) => {
      if (typeof f.data !== 'string' || f.verdict.kind === 'close' || (f.verdict.kind === 'refuse' && f.verdict.code === 'FRAME_TOO_LARGE')) return [];
      const decoded = decodeClientFrame(f.data);
      const agree = decoded.ok ? f.verdict.kind === 'accept' : f.verdict.kind === 'refuse' && f.verdict.code === decoded.error.code;
      return agree ? [] : [`${f.label}: oracle ${JSON.stringify(f.verdict)}, codec ${decoded.ok ? 'ok' : decoded.error.code}: ${f.data.slice(0, 300)}`];
    });
    assert.deepEqual(disagreements, []);

    const bystander = new Bystander(await connect('bystander', 'host', 'calm'));
    // The fuzz session: its host (so that valid opens create documents), a viewer, and the refused frames' sender.
    const fuzzers = { host: await connect('mallory-host', 'host', 'fuzz'), viewer: await connect('mallory-view', 'viewer', 'fuzz') };
    let refuser = await connect('mallory-bad', 'editor', 'fuzz');
    const refuserErrors: ErrorFrame[] = [];
    const domainErrors: Array<{ error: ErrorFrame['payload']; batch: Judged[] }> = [];
    const closes: string[] = [];
    let pingCounter = 0;
    const counts = { refused: 0, accepted: 0, closing: 0, errors: 0 };

    /** Pings `client` and waits for the pong: everything sent before it has been read by the relay. */
    const settle = async (client: TestClient) => {
      const nonce = `f-${++pingCounter}`;
      client.send(clientFrame('system.ping', { nonce }));
      await client.next('system.pong', (f) => f.payload.nonce === nonce, 10_000);
    };
    /** A valid frame's connection closed by the relay: only the documented "document lost" close. */
    const reconnectIfClosed = async (role: 'host' | 'viewer') => {
      const client = fuzzers[role];
      if (client.socket.readyState === client.socket.OPEN) return;
      const { code, reason } = await client.closed;
      const last = client.of('disconnect').at(-1)?.payload;
      assert.ok(code === 1011 && last?.message.includes('lost the document'), `${role} closed with ${code} ${reason}: ${JSON.stringify(last)}`);
      closes.push(`${role}:${code}`);
      fuzzers[role] = await connect(role === 'host' ? 'mallory-host' : 'mallory-view', role, 'fuzz');
    };

    await bystander.start();
    const started = performance.now();
    for (let start = 0; start < frames.length; start += BATCH) {
      const batch = frames.slice(start, start + BATCH);
      const errorsBefore = { host: fuzzers.host.of('error').length, viewer: fuzzers.viewer.of('error').length };
      const expected: Judged[] = [];
      const closing: Judged[] = [];
      for (const [i, frame] of batch.entries()) {
        const { verdict } = frame;
        if (verdict.kind === 'close') closing.push(frame);
        else if (verdict.kind === 'refuse') {
          expected.push(frame);
          refuser.socket.send(frame.data, { binary: frame.binary === true });
        } else {
          const target = i % 4 === 3 ? fuzzers.viewer : fuzzers.host;
          if (target.socket.readyState === target.socket.OPEN) target.send(frame.data as string);
          counts.accepted++;
        }
      }
      const refuserBefore = refuser.of('error').length;
      await settle(refuser);
      for (const role of ['host', 'viewer'] as const) {
        const client = fuzzers[role];
        await settle(client).catch((error: unknown) => {
          if (client.socket.readyState === client.socket.OPEN) throw error;
        });
        await reconnectIfClosed(role);
      }
      // One error per refused frame, in order, each with the oracle's code.
      const got = refuser.of('error').slice(refuserBefore);
      assert.equal(got.length, expected.length, `errors for the batch from frame ${start}`);
      got.forEach((error, j) => assert.equal(error.payload.code, expected[j]!.verdict.kind === 'refuse' && expected[j]!.verdict.code, expected[j]!.label));
      refuserErrors.push(...got);
      counts.refused += expected.length;
      for (const role of ['host', 'viewer'] as const) {
        for (const error of fuzzers[role].of('error').slice(errorsBefore[role])) domainErrors.push({ error: error.payload, batch });
      }
      // Frames that make the socket close it: alone, then a new connection carries on.
      for (const frame of closing) {
        const code = (frame.verdict as { code: number }).code;
        refuser.socket.send(frame.data, { binary: false });
        const closed = await within(refuser.closed, 5000, `the close after ${frame.label}`);
        assert.equal(closed.code, code, frame.label);
        closes.push(`refuser:${closed.code}`);
        counts.closing++;
        refuser = await connect('mallory-bad', 'editor', 'fuzz');
      }
    }
    const fuzzMs = performance.now() - started;
    bystander.stop();

    // Valid frames: domain errors only, never INTERNAL (a bug: the frames of its batch are printed).
    const internal = domainErrors.filter(({ error }) => error.code === 'INTERNAL');
    assert.deepEqual(
      internal.map(({ error, batch }) => ({ error, frames: batch.filter((f) => f.verdict.kind === 'accept' && f.verdict.eventType === error.event_type).map((f) => f.data) })),
      [],
      'INTERNAL errors',
    );
    for (const { error } of domainErrors) {
      assert.ok(!CODEC_CODES.has(error.code), `a valid frame got ${error.code}: ${error.message}`);
      if (error.code === 'RATE_LIMITED') assert.equal(error.event_type, 'collaboration.check', 'only convergence checks have their own rate');
      if (error.code === 'VALIDATION_FAILED') assert.equal(error.path, 'payload.recovery', `a valid frame failed validation: ${error.message}`);
    }
    counts.errors = refuserErrors.length + domainErrors.length;

    // The bystander: nothing of the fuzz session reached it, its edits were acknowledged, its pings fast.
    const foreign = bystander.client.frames.filter((f) => f.user_id !== 'system' && f.user_id !== 'bystander');
    assert.deepEqual(foreign.map((f) => `${f.event_type} from ${f.user_id}`), []);
    const kinds = new Set(bystander.client.frames.map((f) => f.event_type));
    for (const kind of kinds) assert.ok(['connect', 'collaboration.snapshot', 'system.pong', 'collaboration.ack'].includes(kind), `the bystander got ${kind}`);
    assert.deepEqual(bystander.client.of('error'), []);
    // Nothing the refused frames carried reached the fuzz session's others either.
    for (const client of Object.values(fuzzers)) {
      const leaked = client.frames.filter((f) => f.user_id === 'mallory-bad' && f.event_type !== 'session.joined' && f.event_type !== 'session.left');
      assert.deepEqual(leaked.map((f) => f.event_type), [], 'a refused frame was delivered');
    }

    const sorted = [...bystander.rtts].sort((a, b) => a - b);
    const p50 = percentile(sorted, 50);
    const p99 = percentile(sorted, 99);
    console.log(
      `schema fuzz: ${frames.length} frames in ${Math.round(fuzzMs)} ms (${counts.accepted} valid, ${counts.refused} refused, ${counts.closing} closing the socket), ` +
        `${counts.errors} errors (${refuserErrors.length} refusals, ${domainErrors.length} domain: ${summarize(domainErrors.map((d) => d.error.code))}), closes ${summarize(closes)}; ` +
        `bystander ${sorted.length} pings p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms max ${sorted.at(-1)!.toFixed(1)} ms, ${bystander.acks} edits acked`,
    );
    assert.ok(sorted.length >= Math.min(50, fuzzMs / PING_INTERVAL_MS / 2), `only ${sorted.length} pings answered`);
    assert.ok(bystander.acks > 0, 'the bystander’s edits were acknowledged');
    assert.ok(p99 < P99_LIMIT_MS, `bystander p99 ${p99.toFixed(1)} ms`);

    // Still up: it answers /health and new connections, and logged no handler failure.
    assert.equal((await httpRequest(`${relay.httpUrl}/health`)).status, 200);
    const late = await connect('late', 'editor', 'calm');
    late.close();
    assert.deepEqual(relay.records('handler failed'), []);
    for (const client of [bystander.client, refuser, ...Object.values(fuzzers)]) client.close();
  });
});

function summarize(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ${n}`).join(', ') || 'none';
}
