import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PieceAssembler, type ResyncPayload, type TextOp } from '../../../protocol';
import { ensureRelayBuilt } from '../../support/cli';
import { startPinger } from '../../support/pinger';
import { clientFrame, openDocument, openTestClient, startTestRelay, type TestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { sleep } from '../../support/wait';

/**
 * Issue 11, item 3: one editor stalls the relay for everyone by sending ops of many components
 * against a base revision far behind, so that each one is transformed through the whole history.
 * The relay runs as its own process (the bundle), and so does the bystander that pings it from
 * another session (support/pinger.ts): what it measures is the relay's event loop, not this test's.
 */
const DOC = 'big.txt';
const HISTORY = 1000;
const EDITS_PER_ROUND = 30;
/** The burst of thirty is sent this many times, with a pause between (the bystander keeps pinging). */
const ROUNDS = 4;
const PAUSE_MS = 250;
const PING_EVERY_MS = 10;
/** How far behind the head the attack's ops are based: within the kept history (1,000), so no other reason to resync. */
const BEHIND = 900;
const P99_LIMIT_MS = 100;
/**
 * The machine is shared (2 cores, other suites running): a measurement may lose the CPU to
 * someone else. The attack is measured up to this many times and the best p99 counts; a relay
 * that stalls (seconds per burst) fails every attempt, and one clearly stalled ends the attempts.
 * Each attempt also measures the bystander with no attack (`quiet`), as long: on a machine so
 * busy that even that p99 is high, the limit is `QUIET_FACTOR` times it (a stall still fails:
 * it costs a second or more, the noise tens of milliseconds).
 */
const QUIET_FACTOR = 4;
const ATTEMPTS = 3;
const STALLED_MS = 1000;

/** An op of `pairs` × (retain 1, insert "a"): 2 × pairs components, each one a transform step. */
function manyComponents(pairs: number): TextOp {
  const op: TextOp = [];
  for (let i = 0; i < pairs; i++) op.push(1, 'a');
  return op;
}

/** Figures of the attempts, for the log. */
const ms = (values: number[]) => values.map((value) => value.toFixed(1)).join(' / ');

/** The last whole resync among these frames' payloads (a long text comes in pieces). */
function lastWhole(pieces: ResyncPayload[]): ResyncPayload {
  const assembler = new PieceAssembler();
  const whole = pieces.map((piece) => assembler.accept('collaboration.resync', piece)).filter((p) => p !== undefined);
  return whole.at(-1)!;
}

describe('hostile: costly edits against an old base revision (EDIT_MAX_TRANSFORM_COST)', () => {
  let relay: RelayProcess;
  let attacker: TestClient;
  let seq = 0;

  before(async () => {
    ensureRelayBuilt();
    // Default limits: the attack stays within the relay's message rate (200 a second).
    relay = await RelayProcess.start();
    // The attacker is the host (only a host creates documents; the bounds hold for any role).
    attacker = await openTestClient(`${relay.url}?token=${relay.token({ user: 'mallory', role: 'host' })}`);
    await openDocument(attacker, DOC, 'x'.repeat(20_000));
    // 1,000 one-character commits, the history the attack's ops are transformed through, from eight
    // helpers of 125: a connection may send a burst of 200 frames at once, and its open was one of
    // them (with 200 each, the last edit was refused as RATE_LIMITED whenever the open's answer
    // came back within 5 ms, too soon for the bucket to have refilled a token).
    const helpers = await Promise.all(
      [1, 2, 3, 4, 5, 6, 7, 8].map((i) => openTestClient(`${relay.url}?token=${relay.token({ user: `helper-${i}` })}`)),
    );
    for (const [i, helper] of helpers.entries()) {
      await openDocument(helper, DOC);
      const base = i * (HISTORY / helpers.length);
      for (let rev = base; rev < base + HISTORY / helpers.length; rev++)
        helper.send(clientFrame('collaboration.edit', { document: DOC, rev, client_id: `h${i}`, seq: rev, op: ['b'] }));
      await helper.next('collaboration.ack', (f) => f.payload.rev === base + HISTORY / helpers.length, 10_000);
      helper.close();
    }
  });

  after(async () => {
    attacker?.close();
    await relay?.stop();
  });

  type Figures = Awaited<ReturnType<typeof attack>>;

  /** `attack` up to `ATTEMPTS` times: the attempt with the lowest p99, with the answers of all. */
  async function bestOf(op: TextOp): Promise<Figures & { p99s: number[]; quietP99s: number[]; limit: number }> {
    const results: (Figures & { limit: number })[] = [];
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const result = await attack(op);
      const limit = Math.max(P99_LIMIT_MS, QUIET_FACTOR * result.quietP99);
      results.push({ ...result, limit });
      if (result.p99 < limit || result.p99 > STALLED_MS) break;
    }
    // The attempt that came closest to its own limit.
    const best = results.reduce((a, b) => (b.p99 / b.limit < a.p99 / a.limit ? b : a));
    const sum = (key: 'resyncs' | 'acks') => results.reduce((total, r) => total + r[key], 0);
    return {
      ...best,
      resyncs: sum('resyncs'),
      acks: sum('acks'),
      p99s: results.map((r) => r.p99),
      quietP99s: results.map((r) => r.quietP99),
    };
  }

  /** The bystander's p99 over about as long as an attack lasts, with no attack. */
  async function quietP99(): Promise<number> {
    const bystander = await startPinger(`${relay.url}?token=${relay.token({ user: 'bob', sessions: ['s2'] })}`, PING_EVERY_MS);
    await sleep(ROUNDS * (PAUSE_MS + 100));
    return (await bystander.stop()).p99;
  }

  /** The head as the attacker last heard of it (its acks and resyncs). */
  const head = () =>
    Math.max(
      HISTORY,
      ...attacker.of('collaboration.ack').map((f) => f.payload.rev),
      ...attacker.of('collaboration.resync').map((f) => f.payload.rev),
    );

  /**
   * Sends `ROUNDS` bursts of `EDITS_PER_ROUND` edits based `BEHIND` revisions ago while the
   * bystander pings; each burst waits for an answer to each edit, then a pause. Returns the
   * bystander's figures and the answers.
   */
  async function attack(
    op: TextOp,
  ): Promise<{ p99: number; quietP99: number; max: number; samples: number; resyncs: number; acks: number }> {
    const quiet = await quietP99();
    const bystander = await startPinger(`${relay.url}?token=${relay.token({ user: 'bob', sessions: ['s2'] })}`, PING_EVERY_MS);
    const frames = (rev: number) =>
      Array.from({ length: EDITS_PER_ROUND }, () =>
        JSON.stringify(clientFrame('collaboration.edit', { document: DOC, rev, client_id: 'm', seq: seq++, op })),
      );
    // Opening the document again queues behind the burst's edits, and its snapshot behind their
    // answers: once it is here, every edit has been answered (a resync still waiting to go out is
    // replaced by a newer one of the same document, so the resyncs cannot simply be counted).
    const snapshots = () => attacker.of('collaboration.snapshot').filter((f) => f.payload.more !== true).length;
    const resyncsBefore = attacker.of('collaboration.resync').length;
    const acksBefore = attacker.of('collaboration.ack').length;
    let figures: Awaited<ReturnType<typeof bystander.stop>>;
    try {
      for (let round = 0; round < ROUNDS; round++) {
        await sleep(PAUSE_MS);
        const expected = snapshots() + 1;
        for (const frame of frames(head() - BEHIND)) attacker.send(frame);
        attacker.send(clientFrame('collaboration.open', { document: DOC }));
        await attacker.until(() => snapshots() >= expected, `answers to round ${round + 1} of the attack`, 60_000);
      }
    } finally {
      figures = await bystander.stop();
    }
    return {
      p99: figures.p99,
      quietP99: quiet,
      max: figures.max,
      samples: figures.rtts.length,
      resyncs: attacker.of('collaboration.resync').length - resyncsBefore,
      acks: attacker.of('collaboration.ack').length - acksBefore,
    };
  }

  it('answers ops far too costly to transform with a resync; another session’s pings stay fast', async () => {
    // 10,000 components against 900 revisions: about 9 M transform steps each.
    const result = await bestOf(manyComponents(5000));
    console.log(
      `too costly: bystander p99 ${ms(result.p99s)} ms (quiet ${ms(result.quietP99s)} ms), max ${result.max.toFixed(1)} ms over ` +
        `${result.samples} pings; ${result.resyncs} resyncs, ${result.acks} acks`,
    );
    assert.ok(result.samples >= 50, `only ${result.samples} pings`);
    assert.ok(result.p99 < result.limit, `the bystander's p99 was ${result.p99.toFixed(1)} ms, over ${result.limit.toFixed(1)} ms`);
    assert.equal(result.acks, 0, 'no such op was applied');
    assert.ok(result.resyncs >= ROUNDS, `${result.resyncs} resyncs`);
    const resync = lastWhole(attacker.of('collaboration.resync').map((f) => f.payload));
    assert.equal(resync.reason, 'too_costly');
    assert.equal(resync.rev, HISTORY, 'the document did not change');
    assert.ok(
      resync.text.length === HISTORY + 20_000 && !resync.text.includes('a'),
      `the head text, without any of the attack (${resync.text.length} code units)`,
    );
  });

  it('bounds the transform work one connection may do per second (EDIT_TRANSFORM_COST_PER_SECOND)', async () => {
    // 900 components against 900 revisions: about 0.8 M steps, under the per-op bound; thirty
    // at once are far over the connection's 4 M a second, and the relay yields between slices.
    const before = attacker.of('collaboration.resync').length;
    const result = await bestOf(manyComponents(450));
    console.log(
      `per-connection budget: bystander p99 ${ms(result.p99s)} ms (quiet ${ms(result.quietP99s)} ms), max ${result.max.toFixed(1)} ms ` +
        `over ${result.samples} pings; ${result.resyncs} resyncs, ${result.acks} acks`,
    );
    assert.ok(result.samples >= 50, `only ${result.samples} pings`);
    assert.ok(result.p99 < result.limit, `the bystander's p99 was ${result.p99.toFixed(1)} ms, over ${result.limit.toFixed(1)} ms`);
    assert.ok(result.acks >= 1, 'an op within the bounds is committed');
    assert.ok(result.resyncs >= 1, 'the ops past the budget get a resync');
    assert.ok(
      attacker
        .of('collaboration.resync')
        .slice(before)
        .every((f) => f.payload.reason === 'too_costly'),
    );
    // The relay is not wedged: a plain edit at the head is committed at once.
    const rev = head();
    attacker.send(clientFrame('collaboration.edit', { document: DOC, rev, client_id: 'm', seq: seq++, op: ['!'] }));
    await attacker.next('collaboration.ack', (f) => f.payload.rev === rev + 1, 3000);
  });
});

describe('hostile: a costly cursor against an old base revision', () => {
  it('drops it with TRANSFORM_TOO_COSTLY; a cursor at the head still goes out', async () => {
    const relay = await startTestRelay({ WS_MAX_MESSAGES_PER_SECOND: '1000' });
    try {
      const mallory = await relay.connect('mallory', { role: 'host' });
      const bob = await relay.connect('bob');
      await openDocument(mallory, DOC, 'x'.repeat(1000));
      await openDocument(bob, DOC);
      // 20 ops of 1,000 components: moving 100 selections through them is 2 M steps.
      for (let seq = 0; seq < 20; seq++)
        mallory.send(clientFrame('collaboration.edit', { document: DOC, rev: seq, client_id: 'm', seq, op: manyComponents(500) }));
      await mallory.next('collaboration.ack', (f) => f.payload.rev === 20, 5000);
      const selections = Array.from({ length: 100 }, (_, i) => ({ anchor: i, head: i }));
      mallory.send(clientFrame('collaboration.cursor', { document: DOC, rev: 0, selections }));
      const error = await mallory.next('error', (f) => f.payload.event_type === 'collaboration.cursor');
      assert.equal(error.payload.code, 'TRANSFORM_TOO_COSTLY');
      mallory.send(clientFrame('collaboration.cursor', { document: DOC, rev: 20, selections: [{ anchor: 5, head: 5 }] }));
      const cursor = await bob.next('collaboration.cursor');
      assert.deepEqual(cursor.payload.selections, [{ anchor: 5, head: 5 }], 'only the cursor at the head reached bob');
    } finally {
      await relay.stop();
    }
  });
});
