/**
 * Participants spread over one or more relays edit one document at once, each inserting unique
 * markers among other random edits, while a test breaks things (drops Redis, kills a relay). At the
 * end every marker must be in the text exactly once: no edit lost, none applied twice.
 */
import assert from 'node:assert/strict';
import type { MintOptions } from '../../../relay/auth/tokens';
import { OtPeer, prng, randomEdit } from '../../support/ot-peer';
import { openDocument, openTestClient } from '../../support/relay-fixture';
import { sleep, waitUntil } from '../../support/wait';

export const MARKER = /⟦[^⟧]*⟧/gu;

/** A relay as the participants see it: where to connect, and tokens it accepts. */
export interface Endpoint {
  readonly url: string;
  token(options: Partial<MintOptions> & { user: string }): string;
}

export interface EditingRunOptions {
  document?: string;
  initialText?: string;
  /** Seeds the participants' random edits (so that a failing run can be replayed). */
  seed?: number;
}

export class EditingRun {
  readonly peers: OtPeer[] = [];
  readonly inserted: string[] = [];
  readonly document: string;
  edits = 0;
  private readonly initialText: string;
  private readonly seed: number;
  private stopped = false;
  private loops: Promise<void>[] = [];
  private watchers = 0;

  constructor(
    private readonly endpoints: readonly Endpoint[],
    options: EditingRunOptions = {},
  ) {
    this.document = options.document ?? 'notes/live.md';
    this.initialText = options.initialText ?? 'shared notes 👋🏽\n';
    this.seed = options.seed ?? 7000;
  }

  /** `editors` peers edit (round-robin over the relays); `watchers` more only follow the document. */
  async start(editors: number, watchers = 0): Promise<void> {
    for (let i = 0; i < editors + watchers; i++) {
      const endpoint = this.endpoints[i % this.endpoints.length]!;
      // Hosts: any of them may be the one to (re)create the document, which only a host may do.
      const peer = new OtPeer(
        endpoint.url,
        endpoint.token({ user: `user-${i}`, role: 'host' }),
        `client-${i}`,
        this.document,
        this.initialText,
      );
      this.peers.push(peer);
      await peer.start();
    }
    this.loops = this.peers.slice(0, editors).map((peer, i) => this.edit(peer, prng(this.seed + i)));
  }

  /** What a newcomer sees on `endpoint` now. */
  async current(endpoint: Endpoint): Promise<{ rev: number; text: string; epoch?: string }> {
    const watcher = await openTestClient(
      `${endpoint.url}?token=${endpoint.token({ user: `watcher-${++this.watchers}`, role: 'viewer' })}`,
      {},
      10_000,
    );
    try {
      const { rev, text, epoch } = await openDocument(watcher, this.document);
      return { rev, text, ...(epoch !== undefined && { epoch }) };
    } finally {
      watcher.close();
    }
  }

  /** The markers some participant has confirmed (in the text it has from the relay, not pending). */
  confirmed(): Set<string> {
    return new Set(this.peers.flatMap((p) => p.doc?.serverText.match(MARKER) ?? []));
  }

  /** Waits until at least `n` more edits have been made. */
  async further(n: number, what: string, timeoutMs = 20_000): Promise<void> {
    const target = this.edits + n;
    await waitUntil(() => this.edits >= target, what, timeoutMs, 10);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  /**
   * Everyone in step, at one revision, with the text a newcomer sees on every relay; every marker
   * inserted is there exactly once. Returns the text.
   */
  async assertConverged(timeoutMs = 30_000): Promise<string> {
    const { peers } = this;
    await waitUntil(() => peers.every((p) => p.settled || p.problems.length > 0), 'every client in step', timeoutMs, 20);
    assert.deepEqual(
      peers.flatMap((p) => p.problems),
      [],
    );
    await waitUntil(() => new Set(peers.map((p) => p.doc!.revision)).size === 1, 'every client at one revision', 10_000);
    for (const endpoint of this.endpoints) {
      const snapshot = await this.current(endpoint);
      for (const peer of peers) {
        assert.equal(peer.doc!.revision, snapshot.rev, `${peer.clientId} revision`);
        assert.equal(peer.text, snapshot.text, `${peer.clientId} text`);
        assert.equal(peer.doc!.epoch, snapshot.epoch, `${peer.clientId} epoch`);
      }
    }
    const text = peers[0]!.text;
    const found = text.match(MARKER) ?? [];
    assert.deepEqual([...found].sort(), [...this.inserted].sort(), 'every marker exactly once: no edit lost, none applied twice');
    return text;
  }

  dispose(): void {
    this.stopped = true;
    for (const peer of this.peers) peer.dispose();
  }

  private async edit(peer: OtPeer, random: () => number): Promise<void> {
    for (let n = 0; !this.stopped; n++) {
      await sleep(1 + Math.floor(random() * 6));
      if (!peer.doc) continue;
      const spans = [...peer.text.matchAll(MARKER)].map((m): [number, number] => [m.index, m.index + m[0].length]);
      const marker = random() < 0.4 ? `⟦${peer.clientId}#${n}⟧` : undefined;
      const op = randomEdit(peer.text, random, { protectedSpans: spans, insert: marker });
      if (!op) continue;
      peer.edit(op);
      this.edits++;
      if (marker) this.inserted.push(marker);
    }
  }
}
