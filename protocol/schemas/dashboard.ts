import { z } from 'zod';
import { DisplayName, DocumentId, Participant, SessionId, Timestamp, UserId } from './common';
import { NotificationPayload } from './system';

/**
 * What the operators' dashboard reads besides the live aggregates (operator.ts): the serving
 * relay's view of Redis and the streams, the cluster's live sessions, the alert rules' state, and
 * the bodies of its two actions. All under `/api/operator/*`, operator tokens only.
 */

const Count = z.number().int().nonnegative();
const Amount = z.number().nonnegative();

/** One stream's consumer group: how many entries are delivered and not acknowledged, and not yet delivered. */
export const StreamGroupInfo = z.strictObject({
  name: z.string().max(200),
  /** Consumers with entries pending (delivered, not yet acknowledged). */
  consumers: Count,
  pending: Count,
  /** Entries not yet delivered to the group; null when Redis cannot tell (trimmed stream). */
  lag: Count.nullable(),
});
export type StreamGroupInfo = z.infer<typeof StreamGroupInfo>;

export const StreamInfo = z.strictObject({ stream: z.string().max(64), length: Count, groups: z.array(StreamGroupInfo) });
export type StreamInfo = z.infer<typeof StreamInfo>;

/** `GET /api/operator/status`: the serving relay's own view, answered even while Redis is away. */
export const OperatorStatus = z.strictObject({
  generated_at: Timestamp,
  relay_id: z.string().max(128),
  uptime_s: Count,
  redis: z.strictObject({
    /** `not_configured`: the embedded in-memory bus and storage (no REDIS_URL). */
    status: z.enum(['up', 'down', 'not_configured']),
    latency_ms: Amount.nullable(),
    memory_used_bytes: Count.nullable(),
    detail: z.string().max(500).optional(),
  }),
  /** The three data streams (empty while Redis is down). */
  streams: z.array(StreamInfo),
  /** Where the alerts come from: Prometheus (PROMETHEUS_URL set) or the dashboard's own thresholds. */
  alerts_source: z.enum(['prometheus', 'aggregates']),
});
export type OperatorStatus = z.infer<typeof OperatorStatus>;

export const ClusterParticipant = Participant.extend({ relay_id: z.string().max(128) });
export type ClusterParticipant = z.infer<typeof ClusterParticipant>;

export const ClusterDocument = z.strictObject({
  document_id: DocumentId,
  /** The document's revision and length (UTF-16 code units); null when the store could not say. */
  rev: Count.nullable(),
  length: Count.nullable(),
});
export type ClusterDocument = z.infer<typeof ClusterDocument>;

export const ClusterSession = z.strictObject({
  session_id: SessionId,
  name: z.string().max(200).optional(),
  /** The owner of a session made through the REST API; null for ad hoc sessions (no record). */
  host: z.strictObject({ user_id: UserId, display_name: DisplayName }).nullable(),
  created_at: Timestamp.nullable(),
  expires_at: Timestamp.nullable(),
  participants: z.array(ClusterParticipant),
  documents: z.array(ClusterDocument),
  /** Chat messages received by the relays since they started (each relay counts its own senders'). */
  chat_messages: Count,
  relays: z.array(z.string().max(128)),
});
export type ClusterSession = z.infer<typeof ClusterSession>;

/** `GET /api/operator/sessions`: every session with a connection on a live relay. */
export const ClusterSessions = z.strictObject({
  generated_at: Timestamp,
  sessions: z.array(ClusterSession),
  /** Relays whose view is included (those that published one within the last few seconds). */
  relays: z.array(z.string().max(128)),
});
export type ClusterSessions = z.infer<typeof ClusterSessions>;

/** `POST /api/operator/notices`: a notice to one session, or (no session_id) to everyone. */
export const OperatorNotice = NotificationPayload.extend({ session_id: SessionId.optional() });
export type OperatorNotice = z.infer<typeof OperatorNotice>;

export const AlertState = z.enum(['firing', 'pending', 'inactive']);
export type AlertState = z.infer<typeof AlertState>;

export const AlertStatus = z.strictObject({
  name: z.string().max(200),
  state: AlertState,
  severity: z.string().max(64),
  summary: z.string().max(2000),
  /** When it became active (pending or firing); null while inactive. */
  active_at: Timestamp.nullable(),
  /** Labels that tell one instance from another (e.g. relay_id). */
  labels: z.record(z.string().max(200), z.string().max(500)),
});
export type AlertStatus = z.infer<typeof AlertStatus>;

/** `GET /api/operator/alerts`: the alert rules' state as Prometheus has it (PROMETHEUS_URL), firing first. */
export const OperatorAlerts = z.strictObject({
  source: z.literal('prometheus'),
  generated_at: Timestamp,
  alerts: z.array(AlertStatus),
});
export type OperatorAlerts = z.infer<typeof OperatorAlerts>;
