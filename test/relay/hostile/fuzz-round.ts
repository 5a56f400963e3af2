/**
 * One round of the schema fuzz (schema-fuzz.test.ts): judged frames sent at a relay process, each
 * to the connection its verdict calls for, while a bystander in another session pings. Asserts
 * what every round must hold and returns the bystander's ping times and the figures.
 */
import assert from 'node:assert/strict';
import type { ServerFrame } from '../../../protocol';
import { startPinger } from '../../support/pinger';
import { clientFrame, openDocument, openTestClient, type TestClient } from '../../support/relay-fixture';
import type { RelayProcess } from '../../support/relay-process';
import type { WireFrame } from '../../support/schema-mutations';
import type { Verdict } from '../../support/schema-oracle';
import { within } from '../../support/wait';

/** Frames sent before the fuzzer waits for its own pongs: the relay's backlog stays this small. */
const BATCH = 20;
const PING_INTERVAL_MS = 10;
const EDIT_INTERVAL_MS = 50;
/** Codes only the gateway's checks give: a frame the oracle accepts must never get one. */
const CODEC_CODES = new Set(['BAD_JSON', 'BINARY_NOT_SUPPORTED', 'UNKNOWN_EVENT', 'WRONG_DIRECTION', 'FRAME_TOO_LARGE']);

type ErrorFrame = Extract<ServerFrame, { event_type: 'error' }>;
export interface Judged extends WireFrame {
  verdict: Verdict;
}

export interface RoundResult {
  p50: number;
  p99: number;
  summary: string;
}

export async function fuzzRound(relay: RelayProcess, frames: Judged[], round: number): Promise<RoundResult> {
  const connect = (user: string, role: 'host' | 'editor' | 'viewer', session: string) =>
    openTestClient(`${relay.url}?token=${relay.token({ user, role, sessions: [session] })}`);
  // The bystander's session, a new one each round (nothing of an earlier round can reach this one):
  // its pinger in a process of its own (its clock measures the relay, not this busy event loop), and
  // its host, who opens a document and keeps editing it.
  const calmSession = `calm-${round}`;
  const pinger = await startPinger(
    `${relay.url}?token=${relay.token({ user: 'bystander', role: 'editor', sessions: [calmSession] })}`,
    PING_INTERVAL_MS,
  );
  const bystander = await connect('bystander', 'host', calmSession);
  const editing = await keepEditing(bystander, 'calm.md', `bystander-${round}`);
  // The fuzz session: its host (so that valid opens create documents), a viewer, and the refused frames' sender.
  const fuzzers = { host: await connect('mallory-host', 'host', 'fuzz'), viewer: await connect('mallory-view', 'viewer', 'fuzz') };
  let refuser = await connect('mallory-bad', 'editor', 'fuzz');
  const refuserErrors: ErrorFrame[] = [];
  const domainErrors: Array<{ error: ErrorFrame['payload']; batch: Judged[] }> = [];
  const closes: string[] = [];
  /** The host's and viewer's connections the relay closed (their frames count in the figures). */
  const retired: TestClient[] = [];
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
    assert.ok(
      code === 1011 && last?.message.includes('lost the document'),
      `${role} closed with ${code} ${reason}: ${JSON.stringify(last)}`,
    );
    closes.push(`${role}:${code}`);
    fuzzers[role] = await connect(role === 'host' ? 'mallory-host' : 'mallory-view', role, 'fuzz');
    retired.push(client);
  };

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
    got.forEach((error, j) =>
      assert.equal(error.payload.code, expected[j]!.verdict.kind === 'refuse' && expected[j]!.verdict.code, expected[j]!.label),
    );
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
  const acks = await editing.stop();
  const { rtts } = await pinger.stop();

  // Valid frames: domain errors only, never INTERNAL (a bug: the frames of its batch are printed).
  const internal = domainErrors.filter(({ error }) => error.code === 'INTERNAL');
  assert.deepEqual(
    internal.map(({ error, batch }) => ({
      error,
      frames: batch.filter((f) => f.verdict.kind === 'accept' && f.verdict.eventType === error.event_type).map((f) => f.data),
    })),
    [],
    'INTERNAL errors',
  );
  for (const { error } of domainErrors) {
    assert.ok(!CODEC_CODES.has(error.code), `a valid frame got ${error.code}: ${error.message}`);
    if (error.code === 'RATE_LIMITED') assert.equal(error.event_type, 'collaboration.check', 'only convergence checks have their own rate');
    // The two fields the schema cannot require, since who must send them depends on the sender's
    // role or the document's state: a recovery record, a tunnel frame's `requester` (the host's only).
    if (error.code === 'VALIDATION_FAILED') {
      const allowed = error.path === 'payload.recovery' || (error.path === 'payload.requester' && error.event_type?.startsWith('tunnel.'));
      assert.ok(allowed, `a valid frame failed validation (${error.event_type} ${error.path}): ${error.message}`);
    }
  }
  counts.errors = refuserErrors.length + domainErrors.length;

  // The bystander: nothing of the fuzz session reached it, its edits were acknowledged, its pings fast.
  const foreign = bystander.frames.filter(
    (f) => (f.user_id !== 'system' && f.user_id !== 'bystander') || (f.session_id !== undefined && f.session_id !== calmSession),
  );
  assert.deepEqual(
    foreign.map((f) => `${f.event_type} from ${f.user_id} of ${f.session_id}`),
    [],
  );
  const kinds = new Set(bystander.frames.map((f) => f.event_type));
  for (const kind of kinds)
    assert.ok(['connect', 'collaboration.snapshot', 'collaboration.ack', 'session.left'].includes(kind), `the bystander got ${kind}`);
  bystander.close();
  // Nothing the refused frames carried reached the fuzz session's others either.
  for (const client of Object.values(fuzzers)) {
    const leaked = client.frames.filter(
      (f) => f.user_id === 'mallory-bad' && f.event_type !== 'session.joined' && f.event_type !== 'session.left',
    );
    assert.deepEqual(
      leaked.map((f) => f.event_type),
      [],
      'a refused frame was delivered',
    );
  }

  const sorted = [...rtts].sort((a, b) => a - b);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const summary =
    `round ${round}: ${frames.length} frames in ${Math.round(fuzzMs)} ms (${counts.accepted} valid, ${counts.refused} refused, ` +
    `${counts.closing} closing the socket), ` +
    `${counts.errors} errors (${refuserErrors.length} refusals, ${domainErrors.length} domain: ` +
    `${summarize(domainErrors.map((d) => d.error.code))}), closes ${summarize(closes)}; ` +
    `the valid frames' connections got ` +
    `${summarize([...retired, ...Object.values(fuzzers)].flatMap((c) => c.frames.map((f) => f.event_type)))}; ` +
    `bystander ${sorted.length} pings p50 ${p50.toFixed(1)} ms p99 ${p99.toFixed(1)} ms max ${sorted.at(-1)!.toFixed(1)} ms, ${acks} ` +
    `edits acked`;
  for (const client of [refuser, ...Object.values(fuzzers)]) client.close();
  // setInterval fires late under load, never early: at least a ping per two intervals.
  assert.ok(sorted.length >= Math.min(50, fuzzMs / PING_INTERVAL_MS / 2), `only ${sorted.length} pings sent`);
  assert.ok(acks > 0, 'the bystander’s edits were acknowledged');

  return { p50, p99, summary };
}

/** Edits `document` (one op in flight at a time) until `stop`, which resolves to the number acknowledged. */
async function keepEditing(client: TestClient, document: string, clientId: string): Promise<{ stop(): Promise<number> }> {
  const { rev } = await openDocument(client, document, 'calm');
  // Counted from the frames the client recorded, not by a listener of its own: `until` checks its
  // condition when the client records a frame, which would be before such a listener saw it, so a
  // last ack arriving during `stop` would be missed (a timeout though the ack came).
  const acked = () => client.of('collaboration.ack').length;
  let sent = 0;
  // Nobody else edits it: each ack moves the document one revision on.
  const timer = setInterval(() => {
    if (acked() < sent) return;
    client.send(clientFrame('collaboration.edit', { document, rev: rev + sent, client_id: clientId, seq: sent, op: ['.'] }));
    sent++;
  }, EDIT_INTERVAL_MS);
  return {
    stop: async () => {
      clearInterval(timer);
      await client.until(() => acked() >= sent, 'the bystander’s last ack');
      return acked();
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function summarize(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([item, n]) => `${item} ${n}`).join(', ') || 'none';
}
