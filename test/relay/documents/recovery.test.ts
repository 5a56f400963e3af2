import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ClientDocument, type OutgoingEdit, type RejoinState, textType, type TextOp } from '../../../protocol';
import type { CommittedOp, OldOp, RecoveryOrigin } from '../../../relay/documents/document-store';
import { fallback, plan, replay, type RecoveryUpload } from '../../../relay/documents/recovery';

const { apply, transform } = textType;
const MARKER = /\[\d+\.\d+\]/g;
const FILLER = ['a', 'b', ' ', '\n', 'é', '😀'];
const markersOf = (text: string) => text.match(MARKER) ?? [];

/** The lost epoch's relay: one linear history, each op transformed from its base revision. */
class OldRelay {
  readonly texts: string[];
  readonly history: Array<{ op: TextOp; clientId: string; seq: number }> = [];
  private readonly last = new Map<string, { seq: number; rev: number }>();

  constructor(text: string) {
    this.texts = [text];
  }

  get rev(): number {
    return this.history.length;
  }

  /** Commits `edit` (or acks it again): what the sender and the others get. */
  receive(edit: OutgoingEdit): { rev: number; op?: TextOp } {
    const last = this.last.get(edit.client_id);
    if (last && edit.seq <= last.seq) return { rev: last.rev };
    let op = edit.op;
    for (const h of this.history.slice(edit.rev)) op = transform(op, h.op, 'right');
    this.texts.push(apply(this.texts.at(-1)!, op));
    this.history.push({ op, clientId: edit.client_id, seq: edit.seq });
    this.last.set(edit.client_id, { seq: edit.seq, rev: this.rev });
    return { rev: this.rev, op };
  }
}

type Down = { kind: 'op'; op: TextOp; rev: number; clientId: string; seq: number } | { kind: 'ack'; rev: number; seq: number };

/** A random op for `text` that never touches a marker: inserts filler and maybe `marker`, deletes a little filler. */
function randomEdit(text: string, a: number, b: number, c: number, marker: string): TextOp {
  const spans = [...text.matchAll(MARKER)].map((m) => [m.index, m.index + m[0].length] as const);
  let pos = a % (text.length + 1);
  for (const [s, e] of spans) if (pos > s && pos < e) pos = e;
  if (pos > 0 && pos < text.length && /[\uDC00-\uDFFF]/.test(text[pos]!)) pos--;
  let end = Math.min(text.length, pos + (b % 4));
  for (const [s] of spans) if (s >= pos && s < end) end = s;
  if (end > 0 && end < text.length && /[\uDC00-\uDFFF]/.test(text[end]!)) end++;
  const insert = (c % 3 === 0 ? '' : FILLER[c % FILLER.length]!) + (c % 2 === 0 ? marker : '');
  return textType.fromChange(pos, text.slice(pos, end), insert);
}

interface World {
  relay: OldRelay;
  clients: ClientDocument[];
  up: OutgoingEdit[][];
  down: Down[][];
  marker: number;
}

/** Runs the lost epoch: local edits, deliveries both ways, in the order `actions` says. */
function runEpoch(n: number, initial: string, actions: Array<[number, number, number, number, number]>, historyLimit: number): World {
  const relay = new OldRelay(initial);
  const clients = Array.from(
    { length: n },
    (_, i) => new ClientDocument({ clientId: `c${i}`, revision: 0, text: initial, epoch: 'old', historyLimit }),
  );
  const world: World = { relay, clients, up: clients.map(() => []), down: clients.map(() => []), marker: 0 };
  for (const [kind, ci, a, b, c] of actions) {
    const i = ci % n;
    const client = clients[i]!;
    if (kind < 40) {
      const out = client.applyLocal(randomEdit(client.text, a, b, c, `[${i}.${world.marker++}]`));
      if (out) world.up[i]!.push(out);
    } else if (kind < 70) {
      const edit = world.up[i]!.shift();
      if (!edit) continue;
      const { rev, op } = relay.receive(edit);
      world.down[i]!.push({ kind: 'ack', rev, seq: edit.seq });
      if (op)
        for (let j = 0; j < n; j++) if (j !== i) world.down[j]!.push({ kind: 'op', op, rev, clientId: edit.client_id, seq: edit.seq });
    } else {
      const msg = world.down[i]!.shift();
      if (!msg) continue;
      if (msg.kind === 'op') client.applyServer(msg.op, msg.rev, { clientId: msg.clientId, seq: msg.seq });
      else {
        const out = client.serverAck(msg.rev, msg.seq);
        if (out) world.up[i]!.push(out);
      }
    }
  }
  return world;
}

function uploadOf(state: RejoinState): RecoveryUpload {
  const { recovery } = state;
  return {
    epoch: state.epoch!,
    rev: state.rev,
    clientId: state.client_id,
    text: state.text,
    ...(recovery.outstanding && { outstanding: recovery.outstanding }),
    ...(recovery.buffer && { buffer: recovery.buffer }),
    history: toOld(state),
  };
}

function toOld(state: RejoinState): OldOp[] {
  return state.recovery.history.map((o) => ({
    rev: o.rev,
    op: o.op,
    ...(o.client_id !== undefined && { clientId: o.client_id }),
    ...(o.seq !== undefined && { seq: o.seq }),
  }));
}

/**
 * The history is lost; the clients rejoin in `order`, the first recreating the document. Between
 * rejoins, already-merged participants may edit the new document (`fresh`). Returns the text and
 * what must be in it.
 */
function recoverAll(world: World, order: number[], fresh: boolean[], expectExact: boolean): { text: string; expected: Set<string> } {
  const { clients, relay } = world;
  const uploads = clients.map((c) => c.rejoin());
  const mine = clients.map((c) => c.text);
  const maxRev = Math.max(...clients.map((c) => c.revision));
  const expected = new Set([...markersOf(relay.texts[maxRev]!), ...mine.flatMap(markersOf)]);
  let origin: RecoveryOrigin | undefined;
  let text = '';
  const history: CommittedOp[] = [];
  for (const [k, i] of order.entries()) {
    const upload = uploads[i]!;
    if (!origin) {
      origin = { epoch: upload.epoch!, rev: upload.rev, history: toOld(upload) };
      text = upload.text;
    }
    const merge = plan(replay(origin, history), text, uploadOf(upload));
    if (expectExact) assert.ok(merge.exact, `client ${i}'s merge is exact`);
    text = apply(text, merge.op);
    history.push({
      rev: history.length + 1,
      op: merge.op,
      userId: 'u',
      clientId: upload.client_id,
      seq: upload.recovery.seq,
      recovery: merge.record,
    });
    assert.ok(merge.rebase, 'a rebase for the client');
    assert.equal(apply(mine[i]!, merge.rebase), text, 'the rebase turns the client’s text into the document’s');
    const { op, outgoing } = clients[i]!.reset({ text, rev: history.length, epoch: 'new', rebase: merge.rebase });
    assert.equal(clients[i]!.text, text);
    assert.equal(apply(mine[i]!, op), text, 'the editor gets the same change');
    assert.equal(outgoing, undefined, 'nothing more to send: its edits are in');
    if (fresh[k]) {
      // Someone already back types on: an ordinary commit of the new epoch, at the head.
      const marker = `[9.${world.marker++}]`;
      const edit = randomEdit(text, k * 7919, 0, 0, marker);
      text = apply(text, edit);
      history.push({ rev: history.length + 1, op: edit, userId: 'u', clientId: 'newcomer', seq: k });
      expected.add(marker);
    }
  }
  return { text, expected };
}

function assertMarkers(text: string, expected: Set<string>): void {
  const found = markersOf(text);
  assert.deepEqual([...found].sort(), [...expected].sort(), 'every marker anyone confirmed or had pending, exactly once');
}

/** A fork whose store kept revision 1 ("ab", by the host): the attack cases start from it. */
const FORKED: RecoveryOrigin = { epoch: 'old', rev: 1, history: [{ rev: 1, op: ['ab'], clientId: 'host', seq: 0 }] };

/** The first rejoin merged into `FORKED`: the document's text after it, and its commit as the new epoch's history. */
function firstBack(upload: RecoveryUpload): { text: string; history: CommittedOp[] } {
  const merge = plan(replay(FORKED, []), 'ab', upload);
  return {
    text: apply('ab', merge.op),
    history: [{ rev: 1, op: merge.op, userId: 'guest', clientId: upload.clientId, seq: 0, recovery: merge.record }],
  };
}

const action = fc.tuple(fc.nat(99), fc.nat(4), fc.nat(1000), fc.nat(1000), fc.nat(1000));
const initial = fc.array(fc.constantFrom(...FILLER), { maxLength: 8 }).map((a) => a.join(''));

describe('recovery: rebuilding a lost document from its participants’ copies', () => {
  it('exact: whatever anyone confirmed or had pending comes back once, in any rejoin order, with new edits in between', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        initial,
        fc.array(action, { maxLength: 240 }),
        fc.infiniteStream(fc.nat()),
        fc.boolean(),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (n, text, actions, seeds, oldestFirst, fresh) => {
          const world = runEpoch(n, text, actions, 1000);
          // In any order, or those who had the least first: each later one brings in what it alone confirmed.
          const order = shuffle(n, seeds);
          if (oldestFirst) order.sort((a, b) => world.clients[a]!.revision - world.clients[b]!.revision);
          const result = recoverAll(world, order, fresh, true);
          assertMarkers(result.text, result.expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an outstanding op committed in the lost epoch but never acked is not applied twice, whoever comes back first', () => {
    // c0 commits "[0.0]" at revision 1; c1 sees it, c0 never gets the ack (its op stays outstanding).
    for (const first of [0, 1]) {
      const relay = new OldRelay('ab');
      const c0 = new ClientDocument({ clientId: 'c0', revision: 0, text: 'ab', epoch: 'old' });
      const c1 = new ClientDocument({ clientId: 'c1', revision: 0, text: 'ab', epoch: 'old' });
      const sent = c0.applyLocal([1, '[0.0]'])!;
      const { rev, op } = relay.receive(sent);
      c1.applyServer(op!, rev, { clientId: 'c0', seq: sent.seq });
      const world: World = { relay, clients: [c0, c1], up: [[], []], down: [[], []], marker: 1 };
      const { text, expected } = recoverAll(world, first === 0 ? [0, 1] : [1, 0], [false, false], true);
      assert.equal(text, 'a[0.0]b');
      assertMarkers(text, expected);
    }
  });

  it('an op a guest uploads under the host’s identity does not pass for the host’s unacknowledged edit (attack)', () => {
    // A fork (the store kept revision 1): the guest comes back first with a "revision 2" it claims
    // the host made with the host's next seq; the host comes back with that seq unacknowledged.
    const origin = FORKED;
    const forged = { rev: 2, op: [1, 'X'], clientId: 'host', seq: 1 };
    const guest: RecoveryUpload = { epoch: 'old', rev: 2, clientId: 'guest', text: 'aXb', history: [...origin.history, forged] };
    const host: RecoveryUpload = {
      epoch: 'old',
      rev: 1,
      clientId: 'host',
      text: 'ab',
      outstanding: { seq: 1, op: [2, 'HOST'] },
      history: origin.history,
    };
    const { text, history } = firstBack(guest);
    assert.equal(text, 'aXb');
    // By ops: the forged op is the guest's, and the host's edit is merged past it.
    const merge = plan(replay(origin, history), text, host);
    assert.equal(merge.exact, true);
    assert.equal(apply(text, merge.op), 'aXbHOST');
    assert.equal(apply('abHOST', merge.rebase!), 'aXbHOST');
    // By text (the history between is missing): the same.
    const sparse: RecoveryOrigin = { ...origin, rev: 2, history: [forged] };
    const byText = plan(replay(sparse, []), text, { ...host, rev: 0, text: '', outstanding: { seq: 1, op: ['HOST'] }, history: [] });
    assert.equal(byText.exact, false);
    assert.ok(apply(text, byText.op).includes('HOST'), 'the host’s edit is kept');
    // The op the lost epoch really committed for the host's edit is still its acknowledgement.
    const real = { ...forged, op: [2, 'HOST'] };
    const acked = firstBack({ ...guest, text: 'abHOST', history: [...origin.history, real] });
    const again = plan(replay(origin, acked.history), acked.text, host);
    assert.equal(apply(acked.text, again.op), 'abHOST', 'not twice');
  });

  it('a guest rejoining under the host’s client id does not have the host’s committed op skipped (attack)', () => {
    // A fork (the store kept revision 1). The guest comes back first, naming the host's client id
    // and the host's next seq for an edit of its own; then someone who saw the host's real op
    // with that seq committed at revision 2 brings it in.
    const origin = FORKED;
    const impostor: RecoveryUpload = {
      epoch: 'old',
      rev: 1,
      clientId: 'host',
      text: 'ab',
      outstanding: { seq: 1, op: [2, 'EVIL'] },
      history: origin.history,
    };
    const { text, history } = firstBack(impostor);
    assert.equal(text, 'abEVIL');
    const real = { rev: 2, op: [2, 'HOST'], clientId: 'host', seq: 1 };
    const witness: RecoveryUpload = { epoch: 'old', rev: 2, clientId: 'p', text: 'abHOST', history: [...origin.history, real] };
    const merge = plan(replay(origin, history), text, witness);
    assert.equal(merge.exact, true);
    assert.deepEqual(
      merge.record.chain.map((o) => o.skipped ?? false),
      [false],
      'the host’s op is not taken for the impostor’s',
    );
    assert.ok(apply(text, merge.op).includes('HOST'), 'the host’s committed edit is in');
  });

  it('with too little history to merge by ops, it merges by text: every pending edit is kept, nothing throws', () => {
    // Not exact: what one participant alone confirmed may be lost, and an outstanding op another
    // participant confirmed (unknown to the relay without the ops) may come back twice.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        initial,
        fc.array(action, { maxLength: 120 }),
        fc.infiniteStream(fc.nat()),
        (n, text, actions, seeds) => {
          const world = runEpoch(n, text, actions, 1);
          const pending = new Set(world.clients.flatMap((c) => markersOf(c.text).filter((m) => !c.serverText.includes(m))));
          const result = recoverAll(world, shuffle(n, seeds), [false, false, false, false, false], false);
          for (const m of pending) assert.ok(result.text.includes(m), `pending ${m} kept`);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('a client of another branch of the old epoch (others committed at the lost revision numbers) is merged by text', () => {
    // The store kept revision 1 ("x" by d) and went on at revision 2 with e's "y"; c had a revision
    // 2 of its own (lost with a failover) and a 3, and types "!". Its ops do not continue the document's.
    const origin: RecoveryOrigin = {
      epoch: 'old',
      rev: 2,
      history: [
        { rev: 1, op: ['x'], clientId: 'd', seq: 0 },
        { rev: 2, op: [1, 'y'], clientId: 'e', seq: 0 },
      ],
    };
    const upload: RecoveryUpload = {
      epoch: 'old',
      rev: 3,
      clientId: 'c',
      text: 'xAB',
      buffer: [3, '!'],
      history: [
        { rev: 1, op: ['x'], clientId: 'd', seq: 0 },
        { rev: 2, op: [1, 'A'], clientId: 'c', seq: 0 },
        { rev: 3, op: [2, 'B'], clientId: 'c', seq: 1 },
      ],
    };
    const ahead = plan(replay(origin, []), 'xy', upload);
    assert.equal(ahead.exact, false, 'not chained onto a revision 2 it never had');
    assert.equal(apply('xy', ahead.op), 'xy!');
    assert.equal(apply('xAB!', ahead.rebase!), 'xy!');
    // The same client behind (at its own revision 2): not caught up with e's revision 2 either.
    const behind = plan(replay(origin, []), 'xy', { ...upload, rev: 2, text: 'xA', buffer: [2, '!'], history: upload.history.slice(0, 2) });
    assert.equal(behind.exact, false);
    assert.equal(apply('xy', behind.op), 'xy!');
    // Of the same branch: exact.
    const same = plan(replay(origin, []), 'xy', { ...upload, rev: 2, text: 'xy', buffer: [2, '!'], history: origin.history });
    assert.equal(same.exact, true);
    assert.equal(apply('xy', same.op), 'xy!');
  });

  it('fallback: pending edits go past one replacement from the client’s text to the document’s', () => {
    const upload: RecoveryUpload = { epoch: 'other', rev: 9, clientId: 'c', text: 'hello world', buffer: [5, ','], history: [] };
    const merge = fallback('hello there world', upload);
    assert.equal(merge.exact, false);
    assert.equal(apply('hello there world', merge.op), 'hello, there world');
    assert.equal(apply('hello, world', merge.rebase!), 'hello, there world');
    const blind = fallback('x', { ...upload, text: undefined });
    assert.deepEqual([blind.op, blind.rebase], [[], undefined], 'without the client’s text nothing can be merged');
  });
});

/** A permutation of 0..n-1 from a stream of numbers. */
function shuffle(n: number, seeds: Iterable<number>): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const it = seeds[Symbol.iterator]();
  for (let i = n - 1; i > 0; i--) {
    const j = (it.next().value as number) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}
