import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { OtError, type TextOp } from '../../../protocol';
import type { Broker, Publication } from '../../../relay/broker/broker';
import {
  type CommitPublication,
  type CommittedOp,
  type DocumentStore,
  EntryRejectedError,
  type RecoveryOrigin,
  type RecoveryRecord,
} from '../../../relay/documents/document-store';
import { committedOpBytes, lastCommitBytes } from '../../../relay/documents/history-bytes';
import { sleep, waitUntil } from '../../support/wait';

export interface DocumentStoreOptions {
  historySize?: number;
  idleTimeoutMs?: number;
  historyMaxBytes?: number;
}

/** A store, and the broker its commits' publications go out on (to check them). */
export interface DocumentStoreFixture {
  store: DocumentStore;
  broker: Broker;
  close(): Promise<void>;
}

let counter = 0;
/** A fresh session per test, so implementations sharing a backend never see each other's documents. */
const freshSession = () => `contract-${process.pid}-${++counter}`;
const DOC = 'src/doc.ts';

/** `value` (a head or snapshot) without its `epoch`, which must be there (random per create), to compare with a literal. */
export function plain<T extends { epoch?: string }>(value: T | undefined): Omit<T, 'epoch'> | undefined {
  if (value === undefined) return undefined;
  const { epoch, ...rest } = value;
  assert.match(epoch ?? '(none)', /^[0-9a-f]{16}$/, 'an epoch');
  return rest;
}
const plainSince = (value: Awaited<ReturnType<DocumentStore['since']>>) => value && { ...value, head: plain(value.head) };

const entry = (rev: number, op: TextOp, extra: Partial<CommittedOp> = {}): CommittedOp => ({
  rev,
  op,
  userId: 'alice',
  clientId: 'c-alice',
  seq: rev - 1,
  ...extra,
});
const publication = (session: string, rev: number): CommitPublication => ({
  channel: `doc:{${session}}\u0000${DOC}`,
  message: {
    eventType: 'collaboration.edit',
    data: `{"rev":${rev}}`,
    exclude: 'relay-1.1',
    echo: { eventType: 'collaboration.ack', data: `{"ack":${rev}}` },
  },
});

/**
 * The behaviour every DocumentStore must have, written once and run against each implementation
 * (as the broker's contract is). `create(options)` makes a store and the broker it publishes on.
 */
export function documentStoreContract(name: string, create: (options: DocumentStoreOptions) => Promise<DocumentStoreFixture>): void {
  describe(`DocumentStore contract: ${name}`, () => {
    const fixtures: DocumentStoreFixture[] = [];
    const make = async (options: DocumentStoreOptions = {}) => {
      const fixture = await create(options);
      fixtures.push(fixture);
      return fixture;
    };
    after(async () => {
      for (const fixture of fixtures) await fixture.close();
    });

    it('creates a document once, at revision 0 with its text; a missing one is undefined everywhere', async () => {
      const { store } = await make();
      const session = freshSession();
      assert.equal(await store.head(session, DOC), undefined);
      assert.equal(await store.snapshot(session, DOC), undefined);
      assert.equal(await store.read(session, DOC, 0), undefined);
      assert.equal(await store.lastCommit(session, DOC, 'alice', 'c-alice'), undefined);
      assert.equal(await store.append(session, DOC, entry(1, ['x'])), false);
      assert.equal(await store.create(session, DOC, 'hello 👋🏽'), true);
      assert.equal(await store.create(session, DOC, 'other text'), false);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 0, oldestRev: 0, length: 10 });
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 0, text: 'hello 👋🏽' });
      assert.deepEqual(await store.read(session, DOC, 0), []);
      assert.equal(await store.head(session, 'other.ts'), undefined, 'documents are per id');
      assert.equal(await store.head(freshSession(), DOC), undefined, 'and per session');
    });

    it('commits at head + 1 only, and keeps text, length, history and the last commit per (user, client)', async () => {
      const { store } = await make();
      const session = freshSession();
      await store.create(session, DOC, 'abc');
      assert.equal(await store.append(session, DOC, entry(2, ['x'])), false, 'a revision ahead of the head');
      assert.equal(await store.append(session, DOC, entry(1, [3, '😀'])), true);
      assert.equal(await store.append(session, DOC, entry(1, ['y'])), false, 'revision 1 is taken');
      assert.equal(await store.append(session, DOC, entry(2, [{ d: 'a' }], { userId: 'bob', clientId: 'c-bob', seq: 7 })), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 2, oldestRev: 0, length: 4 });
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 2, text: 'bc😀' });
      assert.deepEqual(await store.read(session, DOC, 0), [
        entry(1, [3, '😀']),
        entry(2, [{ d: 'a' }], { userId: 'bob', clientId: 'c-bob', seq: 7 }),
      ]);
      assert.deepEqual(await store.read(session, DOC, 1), [entry(2, [{ d: 'a' }], { userId: 'bob', clientId: 'c-bob', seq: 7 })]);
      assert.deepEqual(await store.read(session, DOC, 2), []);
      assert.equal(await store.read(session, DOC, 3), undefined, 'a base revision from the future');
      assert.deepEqual(plainSince(await store.since(session, DOC, 1)), {
        head: { rev: 2, oldestRev: 0, length: 4 },
        ops: [entry(2, [{ d: 'a' }], { userId: 'bob', clientId: 'c-bob', seq: 7 })],
      });
      assert.deepEqual(plainSince(await store.since(session, DOC, 3)), { head: { rev: 2, oldestRev: 0, length: 4 }, ops: undefined });
      assert.equal(await store.since(session, 'missing.ts', 0), undefined);
      assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-alice'), { seq: 0, rev: 1 });
      assert.deepEqual(await store.lastCommit(session, DOC, 'bob', 'c-bob'), { seq: 7, rev: 2 });
      assert.equal(await store.lastCommit(session, DOC, 'bob', 'c-alice'), undefined, 'keyed by user and client id');
    });

    it('refuses a resubmit of a committed (user, client, seq): false, nothing changes', async () => {
      const { store } = await make();
      const session = freshSession();
      await store.create(session, DOC, '');
      assert.equal(await store.append(session, DOC, entry(1, ['a'], { seq: 5 })), true);
      assert.equal(await store.append(session, DOC, entry(2, ['b'], { seq: 5 })), false);
      assert.equal(await store.append(session, DOC, entry(2, ['b'], { seq: 4 })), false);
      assert.equal(
        await store.append(session, DOC, entry(2, ['b'], { seq: 5, userId: 'bob' })),
        true,
        'another user, same client id and seq',
      );
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 2, text: 'ba' });
    });

    it('throws the OtError of an op that does not apply, and changes nothing', async () => {
      const { store } = await make();
      const session = freshSession();
      await store.create(session, DOC, 'abc😀');
      const cases: Array<[TextOp, string]> = [
        [[6, 'x'], 'OP_OUT_OF_RANGE'],
        [[1, { d: 'x' }], 'OP_DELETE_MISMATCH'],
        [[4, 'x'], 'OP_SPLITS_SURROGATE'],
        [['\ud83d'], 'OP_SPLITS_SURROGATE'],
      ];
      for (const [op, code] of cases) {
        await assert.rejects(
          store.append(session, DOC, entry(1, op)),
          (error: unknown) => error instanceof OtError && error.code === code,
          JSON.stringify(op),
        );
      }
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 0, oldestRev: 0, length: 5 });
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 0, text: 'abc😀' });
      assert.equal(await store.lastCommit(session, DOC, 'alice', 'c-alice'), undefined);
      assert.equal(await store.append(session, DOC, entry(1, [3, '-'])), true, 'revision 1 and seq 0 are still free');
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 1, text: 'abc-😀' });
    });

    it('gives each incarnation its own epoch, keeps the origin a rejoin recreated it with and a commit’s recovery record', async () => {
      const { store } = await make();
      const session = freshSession();
      const origin: RecoveryOrigin = { epoch: 'lost0123456789ab', rev: 7, history: [{ rev: 7, op: [1, 'x'], clientId: 'c', seq: 3 }] };
      assert.equal(await store.create(session, DOC, 'abc', origin), true);
      const { epoch } = (await store.head(session, DOC))!;
      assert.equal((await store.snapshot(session, DOC))!.epoch, epoch);
      assert.equal((await store.since(session, DOC, 0))!.head.epoch, epoch);
      assert.deepEqual(await store.origin(session, DOC, epoch), origin);
      assert.equal(await store.origin(session, DOC, origin.epoch), undefined, 'only for the incarnation it was created with');
      const recovery: RecoveryRecord = {
        from: { epoch: origin.epoch, rev: 7 },
        chain: [{ rev: 8, op: ['y'], clientId: 'd', seq: 1, skipped: true }],
        outstanding: { clientId: 'c', seq: 4 },
        pending: [3, '!'],
        rebase: ['y'],
      };
      assert.equal(await store.append(session, DOC, entry(1, [3, '!'], { recovery })), true);
      assert.deepEqual(await store.read(session, DOC, 0), [entry(1, [3, '!'], { recovery })]);
      const other = freshSession();
      await store.create(other, DOC, 'abc');
      const second = (await store.head(other, DOC))!.epoch;
      assert.notEqual(second, epoch, 'another incarnation, another epoch');
      assert.equal(await store.origin(other, DOC, second), undefined, 'created by a first open: no origin');
    });

    it('keeps the last `historySize` ops: older base revisions cannot be read', async () => {
      const { store } = await make({ historySize: 3 });
      const session = freshSession();
      await store.create(session, DOC, '');
      for (let rev = 1; rev <= 5; rev++)
        assert.equal(await store.append(session, DOC, entry(rev, rev === 1 ? ['0'] : [rev - 1, String(rev - 1)])), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 5, oldestRev: 2, length: 5 });
      assert.equal(await store.read(session, DOC, 0), undefined);
      assert.equal(await store.read(session, DOC, 1), undefined);
      assert.deepEqual(
        (await store.read(session, DOC, 2))?.map((c) => c.rev),
        [3, 4, 5],
      );
      assert.deepEqual(
        (await store.read(session, DOC, 4))?.map((c) => c.op),
        [[4, '4']],
      );
      assert.deepEqual(plainSince(await store.since(session, DOC, 1)), { head: { rev: 5, oldestRev: 2, length: 5 }, ops: undefined });
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 5, text: '01234' });
    });

    it('keeps at most `historyMaxBytes` of ops (`committedOpBytes`), oldest first: older base revisions cannot be read', async () => {
      const line = (rev: number) => entry(rev, [String(rev % 10).repeat(1000)]);
      // Three of these entries fit, not four (all of one size: one insert of 1,000 characters).
      const { store } = await make({ historyMaxBytes: 3 * committedOpBytes(line(1)) + 10 });
      const session = freshSession();
      await store.create(session, DOC, '');
      for (let rev = 1; rev <= 6; rev++) assert.equal(await store.append(session, DOC, line(rev)), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 6, oldestRev: 3, length: 6000 });
      assert.equal(await store.read(session, DOC, 2), undefined, 'an op based before the kept history gets a resync');
      assert.deepEqual(
        (await store.read(session, DOC, 3))?.map((c) => c.rev),
        [4, 5, 6],
      );
      assert.deepEqual(plainSince(await store.since(session, DOC, 0)), { head: { rev: 6, oldestRev: 3, length: 6000 }, ops: undefined });
      assert.equal((await store.snapshot(session, DOC))?.text, [6, 5, 4, 3, 2, 1].map((r) => String(r).repeat(1000)).join(''));
      // One op larger than the bound is committed, and leaves no history at all.
      assert.equal(await store.append(session, DOC, entry(7, ['z'.repeat(5000)])), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 7, oldestRev: 7, length: 11_000 });
      assert.equal(await store.read(session, DOC, 6), undefined);
      assert.deepEqual(await store.read(session, DOC, 7), []);
      // ... and the next ones are kept again.
      assert.equal(await store.append(session, DOC, line(8)), true);
      assert.deepEqual(
        (await store.read(session, DOC, 7))?.map((c) => c.rev),
        [8],
      );
      assert.equal((await store.snapshot(session, DOC))?.text.length, 12_000);
    });

    it('keeps as many bytes of dedupe records (`lastCommitBytes`), the least recently committed client forgotten first', async () => {
      // Three records of one size fit, not four; the ops are small enough not to matter.
      const { store } = await make({ historyMaxBytes: 3 * lastCommitBytes('alice', 'c-0') });
      const session = freshSession();
      await store.create(session, DOC, '');
      const commits: Array<[client: string, seq: number]> = [
        ['c-0', 0],
        ['c-1', 0],
        ['c-2', 0],
        ['c-0', 1],
        ['c-3', 0],
      ];
      for (const [i, [clientId, seq]] of commits.entries())
        assert.equal(await store.append(session, DOC, entry(i + 1, ['x'], { clientId, seq })), true);
      // c-0 committed again after c-1: c-1 is the least recent, and went.
      assert.equal(await store.lastCommit(session, DOC, 'alice', 'c-1'), undefined);
      assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-0'), { seq: 1, rev: 4 });
      assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-2'), { seq: 0, rev: 3 });
      assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-3'), { seq: 0, rev: 5 });
      assert.equal(await store.append(session, DOC, entry(6, ['x'], { clientId: 'c-4', seq: 0 })), true);
      assert.equal(await store.lastCommit(session, DOC, 'alice', 'c-2'), undefined);
      for (const clientId of ['c-0', 'c-3', 'c-4'])
        assert.notEqual(await store.lastCommit(session, DOC, 'alice', clientId), undefined, clientId);
      // A kept record still refuses a resubmit.
      assert.equal(await store.append(session, DOC, entry(7, ['x'], { clientId: 'c-3', seq: 0 })), false);
      // One record larger than the bound on its own is kept (the last commit is always known).
      const { store: tiny } = await make({ historyMaxBytes: 10 });
      const other = freshSession();
      await tiny.create(other, DOC, '');
      assert.equal(await tiny.append(other, DOC, entry(1, ['x'])), true);
      assert.deepEqual(await tiny.lastCommit(other, DOC, 'alice', 'c-alice'), { seq: 0, rev: 1 });
      assert.equal(await tiny.append(other, DOC, entry(2, ['x'], { seq: 0 })), false, 'a resubmit is still refused');
    });

    it('forks a document at its head only: a new epoch at revision 0, its text and origin, no history, the notice published', async () => {
      const { store, broker } = await make();
      const session = freshSession();
      const got: Publication[] = [];
      await broker.subscribe(publication(session, 0).channel, (p) => got.push(p));
      await store.create(session, DOC, 'abc');
      for (let rev = 1; rev <= 3; rev++) assert.equal(await store.append(session, DOC, entry(rev, ['x'])), true);
      const at = (await store.snapshot(session, DOC))!;
      assert.deepEqual(plain(at), { rev: 3, text: 'xxxabc' });
      const origin: RecoveryOrigin = { epoch: at.epoch, rev: 3, history: [{ rev: 3, op: ['x'], clientId: 'c-alice', seq: 2 }] };
      const notice: CommitPublication = {
        channel: publication(session, 0).channel,
        message: { eventType: 'document.forked', data: '', exclude: 'relay-1.7' },
      };
      // Only from the head as it is: another revision or another epoch changes nothing.
      assert.equal(await store.fork(session, DOC, { ...at, rev: 2 }, origin, notice), false);
      assert.equal(await store.fork(session, DOC, { ...at, epoch: 'other0123456789a' }, origin, notice), false);
      assert.equal(await store.fork(session, 'missing.ts', at, origin, notice), false);
      assert.equal((await store.head(session, DOC))!.epoch, at.epoch);
      assert.equal(await store.fork(session, DOC, at, origin, notice), true);
      const head = (await store.head(session, DOC))!;
      assert.notEqual(head.epoch, at.epoch, 'a new epoch');
      assert.deepEqual(plain(head), { rev: 0, oldestRev: 0, length: 6 });
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 0, text: 'xxxabc' });
      assert.deepEqual(await store.read(session, DOC, 0), []);
      assert.deepEqual(await store.origin(session, DOC, head.epoch), origin);
      assert.equal(
        await store.lastCommit(session, DOC, 'alice', 'c-alice'),
        undefined,
        'seqs of the old epoch mean nothing to the new one',
      );
      assert.equal(await store.fork(session, DOC, at, origin, notice), false, 'once');
      await waitUntil(() => got.length >= 1, 'the notice');
      await sleep(50);
      assert.deepEqual(
        got.map((p) => [p.eventType, p.data, p.exclude]),
        [['document.forked', '', 'relay-1.7']],
      );
      assert.equal(await store.append(session, DOC, entry(1, ['y'], { seq: 0 })), true, 'the same client id and seq commit again');
      assert.equal((await store.snapshot(session, DOC))!.text, 'yxxxabc');
    });

    it('publishes a commit’s publication once, in revision order, and nothing for an append that fails', async () => {
      const { store, broker } = await make();
      const session = freshSession();
      const got: Publication[] = [];
      await broker.subscribe(publication(session, 0).channel, (p) => got.push(p));
      await store.create(session, DOC, '');
      assert.equal(await store.append(session, DOC, entry(1, ['a']), publication(session, 1)), true);
      assert.equal(await store.append(session, DOC, entry(1, ['b'], { seq: 1 }), publication(session, 99)), false, 'lost the race');
      await assert.rejects(store.append(session, DOC, entry(2, [5, 'x'], { seq: 1 }), publication(session, 98)), OtError);
      assert.equal(await store.append(session, DOC, entry(2, ['a'], { seq: 0 }), publication(session, 97)), false, 'a resubmit');
      for (let rev = 2; rev <= 20; rev++)
        assert.equal(await store.append(session, DOC, entry(rev, ['a']), publication(session, rev)), true);
      await waitUntil(() => got.length >= 20, '20 publications');
      await sleep(50); // nothing else is on its way
      assert.deepEqual(
        got.map((p) => p.data),
        Array.from({ length: 20 }, (_, i) => `{"rev":${i + 1}}`),
      );
      assert.deepEqual(got[0]!.echo, { eventType: 'collaboration.ack', data: '{"ack":1}' });
      assert.equal(got[0]!.exclude, 'relay-1.1');
      assert.equal(got[0]!.eventType, 'collaboration.edit');
    });

    it('commits a group of entries at consecutive revisions in one call, with their publications in revision order', async () => {
      const { store, broker } = await make();
      const session = freshSession();
      const got: Publication[] = [];
      await broker.subscribe(publication(session, 0).channel, (p) => got.push(p));
      await store.create(session, DOC, 'abc');
      const group = [entry(1, ['1']), entry(2, [4, '2'], { userId: 'bob', clientId: 'c-bob', seq: 3 }), entry(3, [2, '3'], { seq: 1 })];
      assert.equal(
        await store.commit(
          session,
          DOC,
          group,
          [1, 2, 3].map((rev) => publication(session, rev)),
        ),
        true,
      );
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 3, text: '1a3bc2' });
      assert.deepEqual(await store.read(session, DOC, 0), group);
      assert.deepEqual(await store.lastCommit(session, DOC, 'alice', 'c-alice'), { seq: 1, rev: 3 });
      assert.deepEqual(await store.lastCommit(session, DOC, 'bob', 'c-bob'), { seq: 3, rev: 2 });
      // Then single appends and groups mix, publications still in revision order.
      assert.equal(await store.append(session, DOC, entry(4, ['4'], { seq: 2 }), publication(session, 4)), true);
      assert.equal(
        await store.commit(
          session,
          DOC,
          [entry(5, ['5'], { seq: 3 }), entry(6, ['6'], { seq: 4 })],
          [publication(session, 5), publication(session, 6)],
        ),
        true,
      );
      await waitUntil(() => got.length >= 6, '6 publications');
      await sleep(50);
      assert.deepEqual(
        got.map((p) => p.data),
        [1, 2, 3, 4, 5, 6].map((rev) => `{"rev":${rev}}`),
      );
      assert.deepEqual(got[2]!.echo, { eventType: 'collaboration.ack', data: '{"ack":3}' });
      assert.equal(got[2]!.exclude, 'relay-1.1');
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 6, text: '6541a3bc2' });
    });

    it('commits a group all or none: taken revision, resubmit (before, or twice in the group), an op that does not apply', async () => {
      const { store, broker } = await make();
      const session = freshSession();
      const got: Publication[] = [];
      await broker.subscribe(publication(session, 0).channel, (p) => got.push(p));
      await store.create(session, DOC, 'abc');
      assert.equal(await store.append(session, DOC, entry(1, ['x'], { seq: 5 })), true);
      const fresh = (rev: number, seq: number, op: TextOp = ['y']) => entry(rev, op, { userId: 'bob', clientId: 'c-bob', seq });
      const pubs = (n: number) => Array.from({ length: n }, (_, i) => publication(session, 90 + i));
      assert.equal(await store.commit(session, DOC, [fresh(1, 0), fresh(2, 1)], pubs(2)), false, 'revision 1 is taken');
      assert.equal(await store.commit(session, DOC, [fresh(3, 0), fresh(4, 1)], pubs(2)), false, 'a revision ahead of the head');
      assert.equal(await store.commit(session, DOC, [fresh(2, 0), entry(3, ['z'], { seq: 5 })], pubs(2)), false, 'a resubmit');
      assert.equal(await store.commit(session, DOC, [fresh(2, 0), fresh(3, 0)], pubs(2)), false, 'the same seq twice');
      assert.equal(await store.commit(session, DOC, [fresh(2, 1), fresh(3, 0)], pubs(2)), false, 'a lower seq after a higher one');
      await assert.rejects(
        store.commit(session, DOC, [fresh(2, 0), fresh(3, 1, [9, 'x']), fresh(4, 2)], pubs(3)),
        (error: unknown) => error instanceof EntryRejectedError && error.index === 1 && (error.cause as OtError).code === 'OP_OUT_OF_RANGE',
      );
      await assert.rejects(
        store.commit(session, DOC, [fresh(2, 0), fresh(3, 1, [{ d: 'y' }]), fresh(4, 2, [{ d: 'q' }])], pubs(3)),
        (error: unknown) => error instanceof EntryRejectedError && error.index === 2,
        'the second op deletes what the first inserted; the third does not apply after it',
      );
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 1, text: 'xabc' }, 'nothing of any of them');
      assert.equal(await store.lastCommit(session, DOC, 'bob', 'c-bob'), undefined);
      assert.equal(await store.commit(session, DOC, [fresh(2, 0), fresh(3, 1, [{ d: 'y' }])], pubs(2)), true, 'all still free');
      assert.deepEqual(plain(await store.snapshot(session, DOC)), { rev: 3, text: 'xabc' });
      await waitUntil(() => got.length >= 2, '2 publications');
      await sleep(50);
      assert.deepEqual(
        got.map((p) => p.data),
        ['{"rev":90}', '{"rev":91}'],
        'only the group that was committed was published',
      );
    });

    it('gives what a commit needs from a base revision (`commitBase`): head, ops since, last commits', async () => {
      const { store } = await make({ historySize: 3 });
      const session = freshSession();
      assert.equal(await store.commitBase(session, DOC, 0), undefined);
      await store.create(session, DOC, '');
      for (let rev = 1; rev <= 5; rev++) assert.equal(await store.append(session, DOC, entry(rev, [String(rev)])), true);
      for (const fresh of [false, true]) {
        const base = await store.commitBase(session, DOC, 3, fresh);
        assert.deepEqual(plain(base?.head), { rev: 5, oldestRev: 2, length: 5 });
        assert.deepEqual(base?.ops, [entry(4, ['4']), entry(5, ['5'])]);
        assert.deepEqual(base?.lastCommit('alice', 'c-alice'), { seq: 4, rev: 5 });
        assert.equal(base?.lastCommit('bob', 'c-alice'), undefined);
        assert.equal((await store.commitBase(session, DOC, 1, fresh))?.ops, undefined, 'older than the kept history');
        assert.deepEqual((await store.commitBase(session, DOC, 5, fresh))?.ops, []);
      }
    });

    it('bounds the history by bytes across a group too: a group larger than the bound leaves none of the older ops', async () => {
      const line = (rev: number, seq = rev - 1) => entry(rev, [String(rev % 10).repeat(1000)], { seq });
      const { store } = await make({ historyMaxBytes: 3 * committedOpBytes(line(1)) + 10 });
      const session = freshSession();
      await store.create(session, DOC, '');
      assert.equal(await store.commit(session, DOC, [line(1), line(2)]), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 2, oldestRev: 0, length: 2000 });
      assert.equal(await store.commit(session, DOC, [line(3), line(4), line(5)]), true);
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 5, oldestRev: 2, length: 5000 });
      assert.equal(await store.read(session, DOC, 1), undefined);
      assert.deepEqual(
        (await store.read(session, DOC, 2))?.map((c) => c.rev),
        [3, 4, 5],
      );
      assert.equal(
        await store.commit(
          session,
          DOC,
          [6, 7, 8, 9].map((rev) => line(rev)),
        ),
        true,
      );
      assert.deepEqual(plain(await store.head(session, DOC)), { rev: 9, oldestRev: 6, length: 9000 });
      assert.deepEqual(
        (await store.read(session, DOC, 6))?.map((c) => c.rev),
        [7, 8, 9],
      );
    });

    it('drops a document neither written nor touched for the idle timeout, and keeps a touched one', async () => {
      const { store } = await make({ idleTimeoutMs: 1000 });
      const session = freshSession();
      await store.create(session, 'kept.ts', 'kept');
      await store.create(session, 'dropped.ts', 'dropped');
      await store.append(session, 'dropped.ts', entry(1, ['!']));
      // Idle expiry is about time: the document must not be looked at meanwhile (a look is a use in memory).
      for (let i = 0; i < 10; i++) {
        await sleep(250);
        await store.touch(session, 'kept.ts');
      }
      assert.equal(await store.head(session, 'dropped.ts'), undefined);
      assert.equal(await store.lastCommit(session, 'dropped.ts', 'alice', 'c-alice'), undefined, 'with its dedupe records');
      assert.deepEqual(plain(await store.snapshot(session, 'kept.ts')), { rev: 0, text: 'kept' });
      assert.equal(await store.create(session, 'dropped.ts', 'new'), true, 'the id is free again');
      assert.deepEqual(await store.read(session, 'dropped.ts', 0), [], 'a new history');
    });
  });
}
