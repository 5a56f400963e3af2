import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { OtError } from '../../../protocol/ot';
import { apply } from '../../../protocol/ot/apply';
import { ClientDocument, diff, SyncError, type OutgoingEdit, type SyncErrorCode } from '../../../protocol/ot/client-document';
import { splitsPair, type TextOp } from '../../../protocol/ot/text-op';
import { transform } from '../../../protocol/ot/transform';

function throwsSync(fn: () => unknown, code: SyncErrorCode): void {
  assert.throws(fn, (e: unknown) => e instanceof SyncError && e.code === code);
}

function doc(text = 'hello', revision = 3): ClientDocument {
  return new ClientDocument({ clientId: 'c1', revision, text });
}

describe('ClientDocument transitions', () => {
  it('starts synchronized with the given text and revision', () => {
    const d = doc();
    assert.equal(d.state, 'synchronized');
    assert.equal(d.text, 'hello');
    assert.equal(d.serverText, 'hello');
    assert.equal(d.revision, 3);
    assert.equal(d.nextSeq, 0);
    assert.equal(d.resendPending(), undefined);
  });

  it('synchronized + local op: sends it with rev, client id and seq; awaitingConfirm', () => {
    const d = doc();
    const out = d.applyLocal([5, '!']);
    assert.deepEqual(out, { rev: 3, client_id: 'c1', seq: 0, op: [5, '!'] });
    assert.equal(d.state, 'awaitingConfirm');
    assert.equal(d.text, 'hello!');
    assert.equal(d.serverText, 'hello');
    assert.equal(d.nextSeq, 1);
  });

  it('awaitingConfirm + local ops: buffered and composed, nothing sent, no seq used', () => {
    const d = doc();
    d.applyLocal([5, '!']);
    assert.equal(d.applyLocal(['>']), undefined);
    assert.equal(d.state, 'awaitingWithBuffer');
    assert.deepEqual(d.buffer, ['>']);
    assert.equal(d.applyLocal([7, '?']), undefined);
    assert.deepEqual(d.buffer, ['>', 6, '?']);
    assert.equal(d.text, '>hello!?');
    assert.equal(d.nextSeq, 1);
  });

  it('ack in awaitingConfirm: synchronized, server text and revision advance', () => {
    const d = doc();
    d.applyLocal([5, '!']);
    assert.equal(d.serverAck(4, 0), undefined);
    assert.equal(d.state, 'synchronized');
    assert.equal(d.serverText, 'hello!');
    assert.equal(d.revision, 4);
    assert.equal(d.resendPending(), undefined);
  });

  it('ack in awaitingWithBuffer: sends the buffer on the new revision with the next seq', () => {
    const d = doc();
    d.applyLocal([5, '!']);
    d.applyLocal(['>']);
    d.applyLocal([7, '?']);
    const out = d.serverAck(4);
    assert.deepEqual(out, { rev: 4, client_id: 'c1', seq: 1, op: ['>', 6, '?'] });
    assert.equal(d.state, 'awaitingConfirm');
    assert.equal(d.serverText, 'hello!');
    assert.deepEqual(d.resendPending(), out);
    assert.equal(d.serverAck(5), undefined);
    assert.equal(d.serverText, '>hello!?');
    assert.equal(d.state, 'synchronized');
  });

  it('a duplicate ack (revision already had) is ignored; an unexpected or skipping ack throws', () => {
    const d = doc();
    d.applyLocal([5, '!']);
    d.serverAck(4);
    d.applyLocal(['a']);
    assert.equal(d.serverAck(4), undefined); // the server acks a resubmit of seq 0 again
    assert.equal(d.state, 'awaitingConfirm');
    assert.equal(d.serverText, 'hello!');
    throwsSync(() => d.serverAck(6), 'REVISION_GAP');
    throwsSync(() => d.serverAck(5, 0), 'UNEXPECTED_ACK');
    assert.equal(d.state, 'awaitingConfirm');
    d.serverAck(5, 1);
    throwsSync(() => d.serverAck(6), 'UNEXPECTED_ACK');
  });

  it('server op when synchronized: applied as is', () => {
    const d = doc();
    assert.deepEqual(d.applyServer(['X'], 4), ['X']);
    assert.equal(d.text, 'Xhello');
    assert.equal(d.serverText, 'Xhello');
    assert.equal(d.revision, 4);
  });

  it('server op in awaitingConfirm: tie-break puts the committed insert first', () => {
    const d = doc();
    d.applyLocal([2, 'L']);
    const forEditor = d.applyServer([2, 'S'], 4);
    assert.deepEqual(forEditor, [2, 'S']);
    assert.equal(d.text, 'heSLllo');
    assert.equal(d.serverText, 'heSllo');
    assert.deepEqual(d.outstanding, [3, 'L']);
    // The server transforms our op with 'right' against its history and gets the same text.
    const committed = transform([2, 'L'], [2, 'S'], 'right');
    assert.equal(apply('heSllo', committed), d.text);
    d.serverAck(5);
    assert.equal(d.serverText, d.text);
  });

  it('server op in awaitingWithBuffer: transformed past the outstanding op, then the buffer', () => {
    const d = doc('abcdef');
    d.applyLocal([1, { d: 'b' }]); // acdef
    d.applyLocal([3, 'X']); // acdXef
    const forEditor = d.applyServer([4, 'Y', { d: 'e' }], 4); // abcdYf on the server
    assert.equal(d.serverText, 'abcdYf');
    // Y and X insert at one place: the committed Y goes first.
    assert.equal(d.text, 'acdYXf');
    assert.equal(apply('acdXef', forEditor), d.text);
    assert.deepEqual(forEditor, [3, 'Y', 1, { d: 'e' }]);
    assert.deepEqual(d.outstanding, [1, { d: 'b' }]);
    assert.deepEqual(d.buffer, [4, 'X']);
    const out = d.serverAck(5);
    assert.deepEqual(out?.op, [4, 'X']);
    assert.equal(apply(d.serverText, out!.op), d.text);
  });

  it('server op: a revision gap or a stale revision throws and changes nothing', () => {
    const d = doc();
    d.applyLocal(['a']);
    throwsSync(() => d.applyServer(['x'], 5), 'REVISION_GAP');
    throwsSync(() => d.applyServer(['x'], 3), 'REVISION_STALE');
    assert.equal(d.revision, 3);
    assert.equal(d.text, 'ahello');
    assert.equal(d.serverText, 'hello');
  });

  it('a server op that does not fit the server text throws and changes nothing', () => {
    const d = doc();
    d.applyLocal(['a']);
    assert.throws(() => d.applyServer([{ d: 'nope' }], 4), OtError);
    assert.equal(d.text, 'ahello');
    assert.equal(d.revision, 3);
  });

  it('a local op that does not fit throws and changes nothing; a no-op is dropped', () => {
    const d = doc();
    assert.throws(() => d.applyLocal([9, 'x']), OtError);
    assert.throws(() => d.applyLocal([{ d: 'x' }]), OtError);
    assert.equal(d.applyLocal([]), undefined);
    assert.equal(d.applyLocal([3]), undefined);
    assert.equal(d.state, 'synchronized');
    assert.equal(d.text, 'hello');
    assert.equal(d.nextSeq, 0);
  });

  it('resendPending: the op as first sent, same client id, seq and rev, after remote ops too', () => {
    const d = doc();
    const sent = d.applyLocal([5, '!']);
    d.applyServer(['Z'], 4);
    d.applyLocal(['b']);
    assert.deepEqual(d.outstanding, [6, '!']);
    assert.deepEqual(d.resendPending(), sent);
    assert.deepEqual(d.resendPending(), { rev: 3, client_id: 'c1', seq: 0, op: [5, '!'] });
  });

  it('resync: adopts the snapshot and rebases the pending edits as a new op', () => {
    const d = doc('one two three');
    d.applyLocal([{ d: 'one' }]); // outstanding: " two three"
    d.applyLocal([10, '!']); // buffer: " two three!"
    const before = d.text;
    // Meanwhile the server (history lost) changed "two" to "2".
    const { op, outgoing } = d.resync('one 2 three', 9);
    assert.equal(d.serverText, 'one 2 three');
    assert.equal(d.revision, 9);
    assert.equal(d.text, ' 2 three!');
    assert.equal(apply(before, op), d.text);
    assert.ok(outgoing);
    assert.equal(outgoing.rev, 9);
    assert.equal(outgoing.seq, 1);
    assert.equal(apply(d.serverText, outgoing.op), d.text);
    assert.equal(d.state, 'awaitingConfirm');
  });

  it('resync: the documented limitation: remote changes are one coarse replacement', () => {
    const d = doc('one two three');
    d.applyLocal([13, '!']);
    // The server changed "two" to "2" and appended " four": the diff replaces "two three" with
    // "2 three four", so the local "!" (at the end of that span) lands after " four". Both kept.
    const { outgoing } = d.resync('one 2 three four', 9);
    assert.equal(d.text, 'one 2 three four!');
    assert.equal(apply(d.serverText, outgoing!.op), d.text);
  });

  it('resync: an outstanding op the server says it committed is not applied twice', () => {
    const d = doc('abc');
    d.applyLocal([3, 'X']);
    d.applyLocal(['Y']);
    const { outgoing } = d.resync('abcX', 7, 0);
    assert.equal(d.text, 'YabcX');
    assert.deepEqual(outgoing?.op, ['Y']);
  });

  it('resync with nothing pending: the text becomes the snapshot, nothing to send', () => {
    const d = doc('a😀b');
    const { op, outgoing } = d.resync('a😁b', 2);
    assert.equal(outgoing, undefined);
    assert.equal(d.text, 'a😁b');
    assert.equal(apply('a😀b', op), 'a😁b');
    assert.equal(d.state, 'synchronized');
  });

  it('keeps the last committed ops with who committed them, bounded, and forgets them on a resync', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 3, text: 'abc', epoch: 'e1', historyLimit: 2 });
    assert.equal(d.epoch, 'e1');
    d.applyServer(['x'], 4, { clientId: 'c2', seq: 7 });
    const out = d.applyLocal([4, '!'])!;
    d.applyServer([1, 'y'], 5);
    d.serverAck(6, out.seq);
    assert.deepEqual(d.history, [
      { rev: 5, op: [1, 'y'] },
      { rev: 6, op: [5, '!'], client_id: 'c1', seq: 0 },
    ]);
    d.resync('other', 9);
    assert.deepEqual(d.history, [], 'a hole in the history: nothing to offer a rejoin');
  });

  it('rejoin: the confirmed text at the revision, the pending edits apart, the history, and a reserved seq', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 3, text: 'abc', epoch: 'e1' });
    d.applyServer(['>'], 4, { clientId: 'c2', seq: 0 });
    const sent = d.applyLocal([4, '1'])!;
    d.applyLocal([5, '2']);
    const state = d.rejoin();
    assert.deepEqual(state, {
      rev: 4,
      client_id: 'c1',
      epoch: 'e1',
      text: '>abc',
      recovery: {
        seq: 1,
        outstanding: { seq: sent.seq, op: [4, '1'] },
        buffer: [5, '2'],
        history: [{ rev: 4, op: ['>'], client_id: 'c2', seq: 0 }],
      },
    });
    assert.ok(d.isRejoining);
    assert.equal(d.nextSeq, 2, 'the seq is taken');
    d.applyLocal([6, '3']);
    assert.equal(d.rejoin(), state, 'only local edits since: the same upload (the relay recognises it by its seq)');
    d.applyServer(['<'], 5);
    assert.equal(d.rejoin().recovery.seq, 2, 'a server op since: a fresh upload');
    d.endRejoin();
    assert.ok(!d.isRejoining);
    assert.equal(d.rejoin(1).recovery.history.length, 1, 'history bounded by the caller');
  });

  it('reset: adopts the rebuilt document and epoch; edits made after the rejoin are rebased and sent with a new seq', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 40, text: 'one two', epoch: 'old' });
    d.applyLocal([7, ' three']); // outstanding in the lost epoch
    d.rejoin();
    d.applyLocal(['>']); // typed while rejoining
    const before = d.text;
    // The relay rebuilt "one two three" from our copy and someone else's "zero ".
    const { op, outgoing } = d.reset({ text: 'zero one two three', rev: 2, epoch: 'new', rebase: ['zero '] });
    assert.equal(d.text, 'zero >one two three', 'the relay’s text goes first where both insert');
    assert.equal(d.serverText, 'zero one two three');
    assert.equal(apply(before, op), d.text, 'the op for the editor');
    assert.deepEqual([d.revision, d.epoch, d.history.length, d.isRejoining], [2, 'new', 0, false]);
    assert.deepEqual(outgoing, { rev: 2, client_id: 'c1', seq: 2, op: [5, '>'] });
    assert.equal(d.resendPending(), outgoing);
  });

  it('maxOpBytes: a large paste goes piece by piece, each within the bound, one seq each, the rest waiting as the buffer', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 0, text: 'ab', maxOpBytes: 64 });
    const paste = 'x'.repeat(150);
    const first = d.applyLocal([1, paste])!;
    assert.ok(JSON.stringify(first.op).length <= 64);
    assert.equal(d.state, 'awaitingWithBuffer');
    assert.equal(d.text, `a${paste}b`, 'the editor has all of it at once');
    const seqs = [first.seq];
    let server = apply('ab', first.op);
    for (let rev = 1, next: OutgoingEdit | undefined = first; next; rev++) {
      next = d.serverAck(rev, next.seq);
      if (!next) break;
      assert.ok(JSON.stringify(next.op).length <= 64, 'each piece within the bound');
      assert.equal(next.rev, rev);
      seqs.push(next.seq);
      server = apply(server, next.op);
    }
    assert.equal(server, `a${paste}b`);
    assert.deepEqual([d.state, d.serverText], ['synchronized', `a${paste}b`]);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => i),
    );
    assert.ok(seqs.length >= 3);
    assert.throws(() => new ClientDocument({ clientId: 'c', revision: 0, text: '', maxOpBytes: 10 }), RangeError);
  });

  it('maxOpBytes: a rejoin uploads as much of a large buffer as fits; a reset sends the rest, in pieces', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 7, text: 'ab', epoch: 'old', maxOpBytes: 64 });
    const paste = 'y'.repeat(200);
    const sent = d.applyLocal([1, paste])!;
    const { recovery } = d.rejoin();
    assert.deepEqual(recovery.outstanding, { seq: sent.seq, op: sent.op });
    assert.ok(recovery.buffer && JSON.stringify(recovery.buffer).length <= 64, 'the upload carries the start of the buffer');
    // The relay lost the document and rebuilt it from the upload: the outstanding op and the
    // start of the buffer are in its text; the rest is sent after the reset.
    const rebuilt = apply(apply('ab', recovery.outstanding!.op), recovery.buffer!);
    const { outgoing } = d.reset({ text: rebuilt, rev: 1, epoch: 'new', rebase: [] });
    assert.equal(d.text, `a${paste}b`, 'nothing of the paste is lost locally');
    let server = rebuilt;
    for (let rev = 2, next = outgoing; next; rev++) {
      assert.ok(JSON.stringify(next.op).length <= 64);
      server = apply(server, next.op);
      next = d.serverAck(rev, next.seq);
    }
    assert.equal(server, `a${paste}b`, 'and it all reaches the relay, once');
  });

  it('refuse: the outstanding op is taken out of the local text; the buffer is kept and sent next', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 2, text: 'hello world' });
    const sent = d.applyLocal([5, ' big', { d: ' world' }])!;
    d.applyLocal(['>']);
    d.applyLocal([10, '!']);
    assert.equal(d.text, '>hello big!');
    assert.equal(d.refuse(sent.seq + 1), undefined, 'not the outstanding op: nothing changes');
    const before = d.text;
    const { op, outgoing } = d.refuse(sent.seq)!;
    assert.equal(d.text, '>hello world!', 'the refused change is gone (its deleted text back), what was typed after it stays');
    assert.equal(apply(before, op), d.text, 'the op for the editor');
    assert.deepEqual([outgoing!.rev, outgoing!.seq], [2, sent.seq + 1]);
    assert.equal(apply(d.serverText, outgoing!.op), d.text, 'the buffer goes next, against the server text');
    assert.equal(d.refuse(sent.seq), undefined, 'a second refusal of it changes nothing');
    const alone = new ClientDocument({ clientId: 'c2', revision: 0, text: 'abc' });
    const only = alone.applyLocal([{ d: 'a' }])!;
    assert.deepEqual(alone.refuse(only.seq), { op: ['a'], outgoing: undefined });
    assert.deepEqual([alone.text, alone.state], ['abc', 'synchronized']);
  });

  it('refuse, as a property: the local text becomes the server text with the buffer, and the editor op gets it there', () => {
    const chars = ['a', 'b', '\n', 'é', '😀'];
    const textArb = fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 4 }).map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...chars), { maxLength: 12 }).map((a) => a.join('')),
        fc.array(fc.tuple(fc.nat(100), fc.nat(3), textArb), { minLength: 2, maxLength: 6 }),
        (text, edits) => {
          const d = new ClientDocument({ clientId: 'c', revision: 0, text });
          let first: OutgoingEdit | undefined;
          for (const [at, del, ins] of edits) {
            const op = randomEdit(d.text, at, del, ins.length, '', ins);
            if (op.length === 0) continue;
            first ??= d.applyLocal(op);
          }
          if (!first) return;
          const before = d.text;
          const result = d.refuse(first.seq)!;
          assert.equal(apply(before, result.op), d.text);
          assert.equal(result.outgoing ? apply(d.serverText, result.outgoing.op) : d.serverText, d.text);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reset without the rebase (or one that does not fit): pending edits keep the local text and send the difference', () => {
    const d = new ClientDocument({ clientId: 'c1', revision: 4, text: 'abc' });
    d.applyLocal([3, 'd']);
    const { op, outgoing } = d.reset({ text: 'xbc', rev: 0, epoch: 'new' });
    assert.deepEqual(op, []);
    assert.equal(d.text, 'abcd');
    assert.equal(apply(d.serverText, outgoing!.op), 'abcd');
    const e = new ClientDocument({ clientId: 'c1', revision: 4, text: 'abc' });
    e.applyLocal(['>']);
    e.rejoin();
    e.reset({ text: 'abc', rev: 0, rebase: [{ d: 'zzz' }] });
    assert.equal(e.text, '>abc', 'a rebase that does not fit: the local text is kept');
    const viewer = new ClientDocument({ clientId: 'v', revision: 4, text: 'abc' });
    const taken = viewer.reset({ text: 'xbc', rev: 0 });
    assert.deepEqual(
      [viewer.text, apply('abc', taken.op), viewer.state],
      ['xbc', 'xbc', 'synchronized'],
      'nothing pending: the relay’s text is taken',
    );
  });

  it('diff never splits a surrogate pair and turns a into b', () => {
    // 😀 and 😁 share their high surrogate; the diff must replace the whole pair.
    assert.deepEqual(diff('a😀b', 'a😁b'), [1, '😁', { d: '😀' }]);
    const chars = ['a', 'b', '😀', '😁', '\n'];
    const text = fc.array(fc.constantFrom(...chars), { maxLength: 8 }).map((a) => a.join(''));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const op = diff(a, b);
        assert.equal(apply(a, op), b); // apply refuses ops that split a pair
      }),
      { numRuns: 300 },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Simulation: an in-memory server, 2-4 clients, random edits, random delivery, resends.

type ToServer = OutgoingEdit;
type ToClient = { type: 'op'; op: TextOp; rev: number } | { type: 'ack'; rev: number; seq: number };

interface Entry {
  clientId: string;
  seq: number;
  op: TextOp;
}

class Server {
  readonly history: Entry[] = [];
  /** (client id, seq) -> the revision it was committed at. */
  private readonly committed = new Map<string, number>();
  constructor(
    public text: string,
    private readonly outbox: (clientId: string, msg: ToClient) => void,
    private readonly clientIds: () => string[],
  ) {}

  get revision(): number {
    return this.history.length;
  }

  receive(edit: ToServer): void {
    const key = `${edit.client_id}\u0000${edit.seq}`;
    const done = this.committed.get(key);
    if (done !== undefined) {
      this.outbox(edit.client_id, { type: 'ack', rev: done, seq: edit.seq });
      return;
    }
    assert.ok(edit.rev <= this.revision, 'an op made against a revision the server never had');
    let op = edit.op;
    for (let i = edit.rev; i < this.history.length; i++) op = transform(op, this.history[i]!.op, 'right');
    this.text = apply(this.text, op);
    this.history.push({ clientId: edit.client_id, seq: edit.seq, op });
    const rev = this.revision;
    this.committed.set(key, rev);
    this.outbox(edit.client_id, { type: 'ack', rev, seq: edit.seq });
    for (const id of this.clientIds()) if (id !== edit.client_id) this.outbox(id, { type: 'op', op, rev });
  }

  /** What a reconnecting client at `since` is sent: every later entry, as an ack when it is its own. */
  replay(clientId: string, since: number): ToClient[] {
    return this.history.slice(since).map((e, i): ToClient => {
      const rev = since + i + 1;
      return e.clientId === clientId ? { type: 'ack', rev, seq: e.seq } : { type: 'op', op: e.op, rev };
    });
  }
}

const FILLER = ['a', 'b', ' ', '\n', 'é', '😀', '👍🏽', '𝒳'];
const MARKER = /\[\d+\.\d+\]/g;

interface Sim {
  server: Server;
  clients: ClientDocument[];
  up: ToServer[][];
  down: ToClient[][];
  markers: string[];
  sent: Map<string, number[]>;
}

function makeSim(n: number, initial: string, maxOpBytes?: number): Sim {
  const clients = Array.from(
    { length: n },
    (_, i) => new ClientDocument({ clientId: `c${i}`, revision: 0, text: initial, ...(maxOpBytes !== undefined && { maxOpBytes }) }),
  );
  const down: ToClient[][] = clients.map(() => []);
  const server = new Server(
    initial,
    (id, msg) => down[Number(id.slice(1))]!.push(msg),
    () => clients.map((c) => c.clientId),
  );
  return { server, clients, up: clients.map(() => []), down, markers: [], sent: new Map() };
}

function record(sim: Sim, edit: OutgoingEdit | undefined, i: number): void {
  if (edit === undefined) return;
  const seqs = sim.sent.get(edit.client_id) ?? [];
  if (!seqs.includes(edit.seq)) seqs.push(edit.seq);
  sim.sent.set(edit.client_id, seqs);
  sim.up[i]!.push(edit);
}

/** Pasted text (`paste` in `runSim`): no other edit makes or deletes a P, so each one pasted must be there once. */
const PASTED = /P+/g;

/** A random op valid for `text` that never deletes any part of a marker or of pasted text (inserting `paste` instead, if given). */
function randomEdit(text: string, a: number, b: number, c: number, marker: string, paste?: string): TextOp {
  let pos = a % (text.length + 1);
  if (splitsPair(text, pos)) pos--;
  // Each character of a marker too: a marker cut by another client's insert between two pieces of
  // an edit (see `runSim`) is no longer matched whole, and its characters must still be kept.
  const spans = [...text.matchAll(MARKER), ...text.matchAll(PASTED), ...text.matchAll(/[[\].0-9]/g)].map(
    (m) => [m.index, m.index + m[0].length] as const,
  );
  for (const [s, e] of spans) if (pos > s && pos < e) pos = e; // never inside a marker
  let end = Math.min(text.length, pos + (b % 5));
  for (const [s] of spans) if (s >= pos && s < end) end = s;
  if (splitsPair(text, end)) end++;
  let ins = '';
  if (c % 4 !== 0) ins = FILLER[c % FILLER.length]! + (c % 2 === 0 ? FILLER[(c >> 1) % FILLER.length]! : '');
  if (c % 3 !== 0) ins += marker;
  if (paste !== undefined) ins = paste;
  const op: TextOp = [];
  if (pos > 0) op.push(pos);
  if (ins.length > 0) op.push(ins);
  if (end > pos) op.push({ d: text.slice(pos, end) });
  return op;
}

function deliverUp(sim: Sim, i: number): boolean {
  const edit = sim.up[i]!.shift();
  if (edit === undefined) return false;
  sim.server.receive(edit);
  return true;
}

function deliverDown(sim: Sim, i: number): boolean {
  const msg = sim.down[i]!.shift();
  if (msg === undefined) return false;
  const client = sim.clients[i]!;
  if (msg.type === 'op') {
    const before = client.text;
    const forEditor = client.applyServer(msg.op, msg.rev);
    assert.equal(apply(before, forEditor), client.text, 'the op for the editor must give the new local text');
  } else {
    record(sim, client.serverAck(msg.rev, msg.seq), i);
  }
  return true;
}

type Action = [kind: number, client: number, a: number, b: number, c: number];

/**
 * `maxOpBytes`: the clients' bound on an edit; then one local edit in ten is a paste of 20 to 120
 * P's (split into pieces by the bound), and every P must end up in the text exactly once. A
 * paste's pieces may have another client's insert between them (see `splitOp`), so they carry no
 * markers: the P's are counted instead.
 */
function runSim(n: number, initial: string, actions: Action[], tail: number[], maxOpBytes?: number): void {
  const sim = makeSim(n, initial, maxOpBytes);
  let markerNo = 0;
  let pasted = 0;
  for (const [kind, ci, a, b, c] of actions) {
    const i = ci % n;
    const client = sim.clients[i]!;
    if (kind < 40) {
      const marker = `[${i}.${markerNo++}]`;
      const paste = maxOpBytes !== undefined && kind % 10 === 0 ? 'P'.repeat(20 + (c % 101)) : undefined;
      const op = randomEdit(client.text, a, b, c, marker, paste);
      pasted += paste?.length ?? 0;
      const had = client.text;
      record(sim, client.applyLocal(op), i);
      if (client.text.includes(marker) && !had.includes(marker)) sim.markers.push(marker);
    } else if (kind < 65) {
      deliverUp(sim, i);
    } else if (kind < 92) {
      deliverDown(sim, i);
    } else if (kind < 96) {
      // A reconnect where nothing is lost: the pending op is simply sent a second time.
      const again = client.resendPending();
      if (again !== undefined) sim.up[i]!.push(again);
    } else {
      // A reconnect that loses whatever was in flight both ways: the server replays what the
      // client has not seen, then the client resends its pending op.
      sim.up[i] = [];
      sim.down[i] = sim.server.replay(client.clientId, client.revision);
      const again = client.resendPending();
      if (again !== undefined) sim.up[i]!.push(again);
    }
  }
  // Deliver everything, in a random-ish order driven by `tail`.
  let k = 0;
  for (;;) {
    const busy = sim.clients
      .flatMap((_, i) => [sim.up[i]!.length > 0 ? 2 * i : -1, sim.down[i]!.length > 0 ? 2 * i + 1 : -1])
      .filter((x) => x >= 0);
    if (busy.length === 0) break;
    const pick = busy[(tail[k++ % Math.max(1, tail.length)] ?? 0) % busy.length]!;
    if (pick % 2 === 0) deliverUp(sim, pick >> 1);
    else deliverDown(sim, pick >> 1);
  }

  const { server } = sim;
  for (const client of sim.clients) {
    assert.equal(client.state, 'synchronized');
    assert.equal(client.revision, server.revision);
    assert.equal(client.serverText, server.text);
    assert.equal(client.text, server.text);
  }
  // Nothing lost, nothing twice: each marker once; each sent (client, seq) committed exactly once.
  if (maxOpBytes === undefined) {
    for (const m of sim.markers) assert.equal(server.text.split(m).length - 1, 1, `marker ${m} must appear exactly once`);
    assert.equal(server.text.match(MARKER)?.length ?? 0, sim.markers.length);
  } else {
    // Another client's insert may land between two pieces of an edit, inside a marker: the
    // markers' characters are counted instead (only markers make '[', '.', ']' and digits).
    const markerChars = (text: string) => [...text.replace(/[^[\].0-9]/g, '')].sort().join('');
    assert.equal(markerChars(server.text), markerChars(sim.markers.join('')), 'every character of every marker once');
  }
  assert.equal(server.text.split('P').length - 1, pasted, 'every pasted character once');
  if (maxOpBytes !== undefined) for (const entry of server.history) assert.ok(JSON.stringify(entry.op).length <= maxOpBytes + 17);
  for (const client of sim.clients) {
    const seqs = sim.sent.get(client.clientId) ?? [];
    assert.deepEqual(
      seqs,
      seqs.map((_, j) => j),
      'seq goes up by one per op sent',
    );
    const committed = server.history.filter((e) => e.clientId === client.clientId).map((e) => e.seq);
    assert.deepEqual(committed, seqs, 'every sent op committed exactly once, in order');
  }
}

/** `runSim` over random client counts, initial texts, actions and delivery orders (and bounds on each edit, if given). */
function simulate(maxOpBytes?: { min: number; max: number }): void {
  const action = fc.tuple(fc.nat(99), fc.nat(3), fc.nat(1000), fc.nat(1000), fc.nat(1000));
  const initial = fc.array(fc.constantFrom(...FILLER), { maxLength: 10 }).map((a) => a.join(''));
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }),
      initial,
      fc.array(action, { minLength: 10, maxLength: 120 }),
      fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }),
      maxOpBytes ? fc.integer(maxOpBytes) : fc.constant(undefined),
      (n, text, actions, tail, bound) => runSim(n, text, actions as Action[], tail, bound),
    ),
    { numRuns: 300 },
  );
}

describe('ClientDocument simulation', () => {
  it('clients and server converge under random interleavings, resends and lost connections', () => {
    simulate();
  });

  it('with a bound on each edit: pastes go in pieces, and still nothing is lost or doubled', () => {
    simulate({ min: 64, max: 100 });
  });

  it('a fixed scenario: concurrent inserts at one place, a duplicate resend, a lost connection', () => {
    const actions: Action[] = [
      [0, 0, 0, 0, 1], // c0 inserts at 0
      [0, 1, 0, 0, 1], // c1 inserts at 0
      [93, 0, 0, 0, 0], // c0 resends (duplicate)
      [50, 0, 0, 0, 0], // deliver c0's op
      [50, 0, 0, 0, 0], // deliver c0's duplicate: acked again, not applied
      [0, 0, 3, 2, 5], // c0 edits while awaiting: buffered
      [97, 1, 0, 0, 0], // c1 reconnects, losing its in-flight op and incoming messages
      [70, 0, 0, 0, 0],
      [70, 0, 0, 0, 0],
    ];
    runSim(2, 'xy😀z', actions, [0, 1, 2, 3]);
  });
});
