import type { ClusterDocument, ClusterParticipant, ClusterSession, ClusterSessions, Participant } from '../../protocol';
import type { Logger } from '../log';
import type { SessionRecord } from '../sessions/session-store';
import type { ClusterViewStore, RelaySessionView, RelayView } from './cluster-view-store';

/** What the view reads of this relay: its connections, the documents' heads and the session records. */
export interface ClusterViewSource {
  connections(): Iterable<{ sessionId: string; participant: Participant; openDocuments: Iterable<string> }>;
  head(sessionId: string, documentId: string): Promise<{ rev: number; length: number } | undefined>;
  record(sessionId: string): Promise<SessionRecord | undefined>;
}

/** Bounds of one relay's view: an operator's table, not an export. */
const MAX_SESSIONS = 500;
const MAX_DOCUMENTS_PER_SESSION = 50;
/** A view outlives a few missed publishes, and no more: a dead relay's sessions leave the table soon. */
const TTL_INTERVALS = 4;

/**
 * Publishes this relay's view of its sessions every interval, and merges every live relay's view
 * into the operators' sessions table (`GET /api/operator/sessions`). Chat messages are counted
 * per session as this relay's connections send them (kept while the session has connections here).
 */
export class ClusterView {
  private readonly chats = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private failing = false;

  constructor(
    private readonly store: ClusterViewStore,
    private readonly source: ClusterViewSource,
    private readonly options: { relayId: string; intervalMs: number; log?: Pick<Logger, 'warn'> },
  ) {}

  countChat(sessionId: string): void {
    this.chats.set(sessionId, (this.chats.get(sessionId) ?? 0) + 1);
  }

  /** This relay's view, as it is now. */
  async local(): Promise<RelayView> {
    const sessions = new Map<string, { participants: Participant[]; documents: Set<string> }>();
    for (const connection of this.source.connections()) {
      let session = sessions.get(connection.sessionId);
      if (!session) {
        if (sessions.size >= MAX_SESSIONS) continue;
        sessions.set(connection.sessionId, (session = { participants: [], documents: new Set() }));
      }
      session.participants.push(connection.participant);
      for (const documentId of connection.openDocuments) {
        if (session.documents.size < MAX_DOCUMENTS_PER_SESSION) session.documents.add(documentId);
      }
    }
    for (const sessionId of this.chats.keys()) if (!sessions.has(sessionId)) this.chats.delete(sessionId);
    const views: RelaySessionView[] = await Promise.all(
      [...sessions].map(async ([sessionId, { participants, documents }]) => ({
        session_id: sessionId,
        participants,
        documents: await Promise.all(
          [...documents].map(async (documentId) => {
            const head = await this.source.head(sessionId, documentId).catch(() => undefined);
            return { document_id: documentId, rev: head?.rev ?? null, length: head?.length ?? null };
          }),
        ),
        chat_messages: this.chats.get(sessionId) ?? 0,
      })),
    );
    return { relay_id: this.options.relayId, at: Date.now(), sessions: views };
  }

  async publish(): Promise<void> {
    await this.store.put(await this.local(), TTL_INTERVALS * this.options.intervalMs);
  }

  /** Every live relay's sessions, merged: participants with their relay, documents by id, chat counts added up. */
  async sessions(): Promise<ClusterSessions> {
    const views = await this.store.all();
    const merged = new Map<
      string,
      { participants: ClusterParticipant[]; documents: Map<string, ClusterDocument>; chat: number; relays: Set<string> }
    >();
    for (const view of views) {
      for (const session of view.sessions) {
        let entry = merged.get(session.session_id);
        if (!entry) merged.set(session.session_id, (entry = { participants: [], documents: new Map(), chat: 0, relays: new Set() }));
        entry.relays.add(view.relay_id);
        entry.chat += session.chat_messages;
        for (const participant of session.participants) entry.participants.push({ ...participant, relay_id: view.relay_id });
        for (const document of session.documents) {
          const known = entry.documents.get(document.document_id);
          if (!known || (document.rev ?? -1) > (known.rev ?? -1)) entry.documents.set(document.document_id, document);
        }
      }
    }
    const sessions: ClusterSession[] = await Promise.all(
      [...merged].map(async ([sessionId, entry]) => {
        const record = await this.source.record(sessionId).catch(() => undefined);
        return {
          session_id: sessionId,
          ...(record?.name !== undefined && { name: record.name }),
          host: record ? { user_id: record.ownerId, display_name: record.ownerName } : null,
          created_at: record ? new Date(record.createdAt).toISOString() : null,
          expires_at: record ? new Date(record.expiresAt).toISOString() : null,
          participants: entry.participants.sort((a, b) => a.user_id.localeCompare(b.user_id)),
          documents: [...entry.documents.values()].sort((a, b) => a.document_id.localeCompare(b.document_id)),
          chat_messages: entry.chat,
          relays: [...entry.relays].sort(),
        };
      }),
    );
    return {
      generated_at: new Date().toISOString(),
      sessions: sessions.sort((a, b) => a.session_id.localeCompare(b.session_id)),
      relays: views.map((view) => view.relay_id).sort(),
    };
  }

  start(): void {
    const tick = () =>
      this.publish().then(
        () => (this.failing = false),
        (error: unknown) => {
          if (!this.failing) this.options.log?.warn({ err: error }, 'could not publish the relay’s sessions view');
          this.failing = true;
        },
      );
    void tick();
    this.timer = setInterval(tick, this.options.intervalMs).unref();
  }

  /** Stops publishing and takes this relay's view away (best effort: Redis may be down). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.store.remove(this.options.relayId).catch(() => undefined);
  }
}
