import { mintToken } from '../../relay/auth/tokens';
import { OtPeer } from '../../test/support/ot-peer';

/**
 * A crowd of editors for the long and the wide benchmarks (`npm run soak`, `npm run
 * bench:sessions`): sessions of 4 participants spread over the given relays, each participant
 * with its own connection (the typed client plus the OT client, as an editor integration wires
 * them). Driven by `tick`: each participant types tokens into the session's document and deletes
 * its oldest ones (so the text stays bounded), moves its cursor, chats and drops its connection,
 * each at its own rate. It records the keystroke-to-remote latency of every token and can then
 * check that nothing was lost or doubled.
 */

export interface CrowdOptions {
  /** WebSocket URLs of the relays; participant i connects to relays[i % length]. */
  relays: readonly string[];
  secret: string;
  sessions: number;
  /** Tokens typed or deleted per participant per second. */
  keysPerSecond: number;
  cursorsPerSecond?: number;
  /** Per participant; 0: never. */
  chatEverySeconds?: number;
  /** Per participant; 0: never. */
  reconnectEverySeconds?: number;
  /** Each participant's tokens kept in the text. */
  liveTokens?: number;
  /** Distinguishes the sessions of crowds that share a relay. */
  name?: string;
}

const DOCUMENT = 'crowd.txt';
const TOKEN = /⟦[^⟧]*⟧/g;
const SEATS = 4;

interface Participant {
  readonly index: number;
  readonly session: number;
  readonly peer: OtPeer;
  /** Its tokens in the text, oldest first. */
  readonly live: string[];
  typed: number;
  /** Tokens of others seen in an edit (latency measured once per token and receiver). */
  readonly seen: Set<string>;
  /** Chat messages received, by client_message_id. */
  readonly chats: Map<string, number>;
}

export class Crowd {
  private readonly participants: Participant[] = [];
  private readonly sentAt = new Map<string, number>();
  private readonly deleted = new Set<string>();
  /** client_message_id -> the sender's index. */
  private readonly sentChats = new Map<string, number>();
  private latencies: number[] = [];
  keystrokes = 0;
  /** The keystrokes that typed a token (the others deleted one): each should reach the 3 others. */
  inserts = 0;
  reconnects = 0;
  cursors = 0;

  private constructor(private readonly options: CrowdOptions) {}

  /** Connects everyone; each session's host first (only a host creates the document). */
  static async join(options: CrowdOptions): Promise<Crowd> {
    const crowd = new Crowd(options);
    const name = options.name ?? 'crowd';
    const joinSession = async (session: number) => {
      for (let seat = 0; seat < SEATS; seat++) {
        const index = session * SEATS + seat;
        const token = mintToken(options.secret, {
          user: `${name}-u${index}`,
          sessions: [`${name}-${session}`],
          role: seat === 0 ? 'host' : 'editor',
          ttl: '4h',
        });
        const peer = new OtPeer(
          options.relays[index % options.relays.length]!,
          token,
          `${name}-c${index}`,
          DOCUMENT,
          seat === 0 ? '' : undefined,
        );
        crowd.participants.push(crowd.listen({ index, session, peer, live: [], typed: 0, seen: new Set(), chats: new Map() }));
        await peer.start();
      }
    };
    // A few sessions at a time: thousands of connections at once would only queue in the accept backlog.
    for (let session = 0; session < options.sessions; session += 16) {
      await Promise.all(Array.from({ length: Math.min(16, options.sessions - session) }, (_, i) => joinSession(session + i)));
    }
    return crowd;
  }

  get size(): number {
    return this.participants.length;
  }

  get chats(): number {
    return this.sentChats.size;
  }

  /** One step of `dtMs`: each participant acts with the probability its rates give. */
  tick(dtMs: number): void {
    const chance = (perSecond: number) => (perSecond * dtMs) / 1000;
    const { keysPerSecond, cursorsPerSecond = 0, chatEverySeconds = 0, reconnectEverySeconds = 0 } = this.options;
    for (const participant of this.participants) {
      const { peer } = participant;
      if (!peer.doc || peer.client.state !== 'open') continue;
      if (Math.random() < chance(keysPerSecond)) this.type(participant);
      if (cursorsPerSecond > 0 && Math.random() < chance(cursorsPerSecond)) {
        const at = Math.floor(Math.random() * (peer.text.length + 1));
        peer.client.send('collaboration.cursor', { document: DOCUMENT, rev: peer.doc.revision, selections: [{ anchor: at, head: at }] });
        this.cursors++;
      }
      if (chatEverySeconds > 0 && Math.random() < chance(1 / chatEverySeconds)) {
        this.sentChats.set(peer.client.sendChat({ content: `hello from ${peer.clientId}` }), participant.index);
      }
      if (reconnectEverySeconds > 0 && Math.random() < chance(1 / reconnectEverySeconds)) {
        peer.drop();
        this.reconnects++;
      }
    }
  }

  /** The keystroke-to-remote latencies (ms) recorded since the last call. */
  takeLatencies(): number[] {
    const taken = this.latencies;
    this.latencies = [];
    return taken;
  }

  /** Waits until every session is in step on one text; returns how many are not by `timeoutMs`. */
  async settle(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let unsettled = this.unsettled();
    while (unsettled > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      unsettled = this.unsettled();
    }
    return unsettled;
  }

  /** Everything lost, doubled or diverged (after `settle`); empty when the crowd's promise held. */
  verify(): string[] {
    const findings: string[] = [];
    const unsettled = this.unsettled();
    if (unsettled > 0) findings.push(`${unsettled} sessions not in step on one text`);
    for (const group of this.sessions()) {
      for (const participant of group) findings.push(...participant.peer.problems);
      const counts = new Map<string, number>();
      for (const [token] of group[0]!.peer.text.matchAll(TOKEN)) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const participant of group) {
        for (let n = 0; n < participant.typed; n++) {
          const token = tokenOf(participant, n);
          const expected = this.deleted.has(token) ? 0 : 1;
          const found = counts.get(token) ?? 0;
          if (found !== expected) findings.push(`${token}: ${found} times in session ${participant.session}, expected ${expected}`);
        }
      }
      for (const [id, sender] of this.sentChats) {
        if (Math.floor(sender / SEATS) !== group[0]!.session) continue;
        for (const participant of group) {
          if (participant.index === sender) continue;
          const got = participant.chats.get(id) ?? 0;
          if (got !== 1) findings.push(`chat ${id}: ${got} times at ${participant.peer.clientId}`);
        }
      }
    }
    return findings;
  }

  dispose(): void {
    for (const participant of this.participants) participant.peer.dispose();
  }

  private listen(participant: Participant): Participant {
    const { peer } = participant;
    peer.client.on('collaboration.edit', (edit) => {
      if (edit.document !== DOCUMENT || edit.client_id === peer.clientId) return;
      for (const component of edit.op) {
        if (typeof component !== 'string') continue;
        for (const [token] of component.matchAll(TOKEN)) {
          const at = this.sentAt.get(token);
          if (at === undefined || participant.seen.has(token)) continue;
          participant.seen.add(token);
          this.latencies.push(performance.now() - at);
        }
      }
    });
    peer.client.on('chat.message', (chat) => {
      const id = chat.client_message_id;
      if (id) participant.chats.set(id, (participant.chats.get(id) ?? 0) + 1);
    });
    return participant;
  }

  /** A token in (between two others, never inside one), or the oldest of this participant's out. */
  private type(participant: Participant): void {
    const { peer } = participant;
    const text = peer.text;
    if (participant.live.length < (this.options.liveTokens ?? 12)) {
      const token = tokenOf(participant, participant.typed++);
      const boundaries = [0, ...[...text.matchAll(/⟧/g)].map((match) => match.index + 1)];
      const at = boundaries[Math.floor(Math.random() * boundaries.length)]!;
      this.sentAt.set(token, performance.now());
      peer.edit([at, token, text.length - at].filter((c) => c !== 0));
      participant.live.push(token);
      this.inserts++;
    } else {
      const token = participant.live.shift()!;
      const at = text.indexOf(token);
      if (at < 0) throw new Error(`${peer.clientId} cannot find its own token ${token}`);
      peer.edit([at, { d: token }, text.length - at - token.length].filter((c) => c !== 0));
      this.deleted.add(token);
    }
    this.keystrokes++;
  }

  private sessions(): Participant[][] {
    const groups: Participant[][] = [];
    for (const participant of this.participants) (groups[participant.session] ??= []).push(participant);
    return groups;
  }

  private unsettled(): number {
    return this.sessions().filter((group) => !group.every((p) => p.peer.settled) || new Set(group.map((p) => p.peer.text)).size !== 1)
      .length;
  }
}

function tokenOf(participant: Participant, n: number): string {
  return `⟦c${participant.index}.${n}⟧`;
}
