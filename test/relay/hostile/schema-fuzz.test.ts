/**
 * Frames generated from the protocol's own JSON Schemas (valid ones, and mutations of them) at a
 * relay process, while a bystander in another session keeps working. Each frame is judged first
 * by an oracle that does not use the relay's code (Ajv on protocol/json, the wire rules): frames
 * it refuses go on one connection, whose every error must be the expected one, one per frame;
 * frames it accepts go on a host's and a viewer's connections, where a domain error is fine and an
 * INTERNAL is a bug. The relay and the bystander's pinger run in processes of their own, so the
 * ping times measure the relay, not this test's work. The seed is printed; FUZZ_SEED=<n> replays a run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeClientFrame } from '../../../protocol';
import { ensureRelayBuilt } from '../../support/cli';
import { httpRequest, openTestClient } from '../../support/relay-fixture';
import { RelayProcess } from '../../support/relay-process';
import { type GeneratedFrame, loadProtocolSchemas, validFrameArbitrary } from '../../support/schema-arbitrary';
import { mutatedFrameArbitrary } from '../../support/schema-mutations';
import { SchemaOracle } from '../../support/schema-oracle';
import { fuzzRound, type Judged, type RoundResult } from './fuzz-round';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_206);
const VALID = 2000;
const MUTATED = 4000;
const P99_LIMIT_MS = 100;
const ROUNDS = 3;
const FRAME_BYTES = 64 * 1024;
const limits = { frameBytes: FRAME_BYTES, hardFrameBytes: 4 * FRAME_BYTES };

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
      if (typeof f.data !== 'string' || f.verdict.kind === 'close' || (f.verdict.kind === 'refuse' && f.verdict.code === 'FRAME_TOO_LARGE'))
        return [];
      const decoded = decodeClientFrame(f.data);
      const agree = decoded.ok ? f.verdict.kind === 'accept' : f.verdict.kind === 'refuse' && f.verdict.code === decoded.error.code;
      return agree
        ? []
        : [`${f.label}: oracle ${JSON.stringify(f.verdict)}, codec ${decoded.ok ? 'ok' : decoded.error.code}: ${f.data.slice(0, 300)}`];
    });
    assert.deepEqual(disagreements, []);

    // A round whose p99 misses is run again (at most ROUNDS in all): a relay that stalls on some
    // frame misses in every round (the frames are the same), a machine busy elsewhere rarely twice.
    const rounds: RoundResult[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const result = await fuzzRound(relay, frames, round);
      console.log(`schema fuzz ${result.summary}`);
      rounds.push(result);
      if (result.p99 < P99_LIMIT_MS) break;
    }
    assert.ok(
      rounds.at(-1)!.p99 < P99_LIMIT_MS,
      `bystander p99 ${rounds.map((r) => r.p99.toFixed(1)).join(', ')} ms in ${rounds.length} rounds`,
    );

    // Still up: it answers /health and new connections, and logged no handler failure.
    assert.equal((await httpRequest(`${relay.httpUrl}/health`)).status, 200);
    const late = await openTestClient(`${relay.url}?token=${relay.token({ user: 'late', role: 'editor', sessions: ['calm'] })}`);
    late.close();
    assert.deepEqual(relay.records('handler failed'), []);
  });
});
