import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AiOutcome, errorCodes, events } from '../../protocol';
import type { RelayStats } from '../stats';
import type { HotPathTimings } from './hot-path';
import { HTTP_ROUTES } from './http-routes';
import { OTHER } from './labels';

/** What the gauges read when scraped. */
export interface RelayGauges {
  connections(): number;
  sessions(): number;
  openDocuments(): number;
  /** Undefined without REDIS_URL: then no `tandem_redis_up` series at all (nothing to be down). */
  redisUp?(): boolean;
}

export interface RelayMetricsOptions {
  relayId: string;
  stats: RelayStats;
  gauges: RelayGauges;
  /** The configured AI model, if any: the only `model` label value besides `other`. */
  aiModel?: string;
}

const EVENT_TYPES: readonly string[] = Object.keys(events);
const ERROR_CODES: readonly string[] = Object.keys(errorCodes);
const eventTypeSet = new Set(EVENT_TYPES);
const errorCodeSet = new Set(ERROR_CODES);
/** The statuses `relay/gateway/upgrade.ts` refuses with. */
const UPGRADE_STATUSES = ['400', '401', '403', '404', '410', '429', '500', '503'];
const FEEDBACK_RATINGS = ['1', '2', '3', '4', '5', 'up', 'down'] as const;
/** A star rating (1-5) or a thumb, as `POST /api/feedback` takes it (the protocol's schema bounds it). */
export type FeedbackRating = number | 'up' | 'down';

/** Seconds; the ranges each histogram is meant for (an edit ack is ms, an AI answer seconds). */
const BUCKETS = {
  editAck: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  fanOut: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1],
  http: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  redis: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  aiAnswer: [0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120],
  aiFirstToken: [0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30],
};

/**
 * The relay's Prometheus metrics (`GET /metrics`), in a registry of its own: several relays in one
 * process (the tests) each have theirs. The hot paths do not call prom-client per frame: message,
 * error and refusal counts stay in `RelayStats`' plain maps and are copied into the counters when
 * Prometheus scrapes (`collect`); the hot paths only time a broadcast's fan-out and an edit's ack,
 * one histogram observation each. Labels come from closed lists (the protocol's event types and
 * error codes, route templates, Redis command names, the configured model): anything else is
 * `other`, so no user, session or document id can ever become a series.
 */
export class RelayMetrics implements HotPathTimings {
  readonly enabled = true;
  readonly registry = new Registry();
  private readonly fanOutSeconds: Histogram;
  private readonly editAckSeconds: Histogram;
  readonly httpSeconds: Histogram<'method' | 'route' | 'status'>;
  readonly redisSeconds: Histogram<'command'>;
  private readonly aiRequests: Counter<'model' | 'outcome'>;
  private readonly aiAnswerSeconds: Histogram<'model' | 'outcome'>;
  private readonly aiFirstTokenSeconds: Histogram<'model'>;
  private readonly aiTokens: Counter<'model' | 'direction'>;
  private readonly feedback: Counter<'rating'>;
  private readonly feedbackRating: Histogram;
  private readonly aiModel: string | undefined;

  constructor({ relayId, stats, gauges, aiModel }: RelayMetricsOptions) {
    const registers = [this.registry];
    this.aiModel = aiModel;
    // Every series says which relay it is from, whatever the scrape configuration names the target.
    this.registry.setDefaultLabels({ relay_id: relayId });
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters (promtool check metrics refuses them); the same counts stay in
    // `nodejs_active_handles`, `nodejs_active_requests` and `nodejs_active_resources`, by type.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);

    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    gauge('tandem_connections', 'WebSocket connections open on this relay', gauges.connections);
    gauge('tandem_sessions', 'sessions with at least one connection on this relay', gauges.sessions);
    gauge(
      'tandem_open_documents',
      'shared documents open on this relay (one per session and document, whoever has it open)',
      gauges.openDocuments,
    );
    if (gauges.redisUp) {
      const up = gauges.redisUp;
      gauge('tandem_redis_up', '1 while this relay can reach Redis, 0 during an outage (from the first failure until it stayed up)', () =>
        up() ? 1 : 0,
      );
    }

    const counts = stats.counts;
    const counter = <L extends string>(
      name: string,
      help: string,
      labelNames: L[],
      fill: (set: (labels: Record<L, string>, value: number) => void) => void,
    ) =>
      new Counter<L>({
        name,
        help,
        labelNames,
        registers,
        collect() {
          this.reset();
          fill((labels, value) => this.inc(labels, value));
        },
      });
    counter('tandem_connections_total', 'WebSocket connections admitted since the relay started', [], (set) =>
      set({}, stats.connectionsTotal),
    );
    counter('tandem_messages_received_total', 'frames received and decoded, by event type', ['event_type'], (set) =>
      byClosedList(EVENT_TYPES, eventTypeSet, counts.inbound, (eventType, value) => set({ event_type: eventType }, value)),
    );
    counter(
      'tandem_messages_sent_total',
      'frames sent, by event type: one per recipient (a broadcast to 50 counts 50)',
      ['event_type'],
      (set) => byClosedList(EVENT_TYPES, eventTypeSet, counts.outbound, (eventType, value) => set({ event_type: eventType }, value)),
    );
    counter('tandem_errors_total', 'errors by code: refused frames, refused upgrades and slow-consumer closes', ['code'], (set) =>
      byClosedList(ERROR_CODES, errorCodeSet, counts.errors, (code, value) => set({ code }, value)),
    );
    counter('tandem_upgrades_refused_total', 'WebSocket upgrades refused, by the HTTP status of the answer', ['status'], (set) => {
      const byStatus = new Map<string, number>();
      for (const [status, value] of counts.refusedUpgrades) byStatus.set(String(status), value);
      byClosedList(UPGRADE_STATUSES, new Set(UPGRADE_STATUSES), byStatus, (status, value) => set({ status }, value));
    });
    counter('tandem_rate_limited_frames_total', 'frames refused for being over the connection’s message rate (RATE_LIMITED)', [], (set) =>
      set({}, counts.errors.get('RATE_LIMITED') ?? 0),
    );
    counter(
      'tandem_slow_consumer_closes_total',
      'connections closed because their outbound buffer passed WS_MAX_BUFFERED_BYTES',
      [],
      (set) => set({}, counts.errors.get('SLOW_CONSUMER') ?? 0),
    );
    counter(
      'tandem_document_repairs_total',
      'divergences found and repaired, by who found them (relay: a convergence check; editor: a client)',
      ['found_by'],
      (set) => {
        set({ found_by: 'relay' }, counts.repairs.relay);
        set({ found_by: 'editor' }, counts.repairs.editor);
      },
    );
    counter(
      'tandem_document_recoveries_total',
      'documents whose history was lost: rejoins that rebuilt (recreated) or reset one (merged a copy), forks (its last revisions lost)',
      ['kind'],
      (set) => {
        set({ kind: 'rebuilt' }, counts.recoveries.rebuilt);
        set({ kind: 'reset' }, counts.recoveries.reset);
        set({ kind: 'forked' }, counts.recoveries.forked);
      },
    );
    counter(
      'tandem_edit_forwards_total',
      'edits forwarded to the relay that commits their document: forwards answered (by the echoes of their commits, or an answer), ' +
        'unanswered (committed here), edits served',
      ['outcome'],
      (set) => {
        set({ outcome: 'answered' }, counts.forwards.answered);
        set({ outcome: 'unanswered' }, counts.forwards.unanswered);
        set({ outcome: 'served' }, counts.forwards.served);
      },
    );

    this.fanOutSeconds = new Histogram({
      name: 'tandem_broadcast_fanout_seconds',
      help: 'time to hand one publication to this relay’s connections of its channel',
      buckets: BUCKETS.fanOut,
      registers,
    });
    this.editAckSeconds = new Histogram({
      name: 'tandem_edit_ack_seconds',
      help: 'an edit from its frame to its commit stored and published (the sender’s ack goes out with it)',
      buckets: BUCKETS.editAck,
      registers,
    });
    this.httpSeconds = new Histogram({
      name: 'tandem_http_request_duration_seconds',
      help: 'REST requests by method, route template and status',
      labelNames: ['method', 'route', 'status'],
      buckets: BUCKETS.http,
      registers,
    });
    for (const route of HTTP_ROUTES) this.httpSeconds.zero({ method: route.method, route: route.template, status: String(route.status) });
    this.redisSeconds = new Histogram({
      name: 'tandem_redis_command_duration_seconds',
      help: 'Redis commands of this relay (its command connection), from sent to answered, by command',
      labelNames: ['command'],
      buckets: BUCKETS.redis,
      registers,
    });

    const models = aiModel ? [aiModel] : [];
    this.aiRequests = new Counter({
      name: 'tandem_ai_requests_total',
      help: 'AI answers by model and outcome',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.aiAnswerSeconds = new Histogram({
      name: 'tandem_ai_answer_seconds',
      help: 'AI answers from the request to the model until the end, by model and outcome',
      labelNames: ['model', 'outcome'],
      buckets: BUCKETS.aiAnswer,
      registers,
    });
    this.aiFirstTokenSeconds = new Histogram({
      name: 'tandem_ai_time_to_first_token_seconds',
      help: 'AI answers from the request to the first token, by model',
      labelNames: ['model'],
      buckets: BUCKETS.aiFirstToken,
      registers,
    });
    this.aiTokens = new Counter({
      name: 'tandem_ai_tokens_total',
      help: 'tokens of AI answers by model and direction (in: prompt; out: answer)',
      labelNames: ['model', 'direction'],
      registers,
    });
    for (const model of models) {
      for (const outcome of AiOutcome.options) {
        this.aiRequests.inc({ model, outcome }, 0);
        this.aiAnswerSeconds.zero({ model, outcome });
      }
      this.aiFirstTokenSeconds.zero({ model });
      for (const direction of ['in', 'out']) this.aiTokens.inc({ model, direction }, 0);
    }

    this.feedback = new Counter({
      name: 'tandem_feedback_total',
      help: 'feedback received, by rating (1-5, or up/down)',
      labelNames: ['rating'],
      registers,
    });
    for (const rating of FEEDBACK_RATINGS) this.feedback.inc({ rating }, 0);
    this.feedbackRating = new Histogram({
      name: 'tandem_feedback_rating',
      help: 'numeric feedback ratings (1-5; up counts 5, down 1): _sum / _count is the average',
      buckets: [1, 2, 3, 4, 5],
      registers,
    });
  }

  fanOut(seconds: number): void {
    this.fanOutSeconds.observe(seconds);
  }

  editAck(seconds: number): void {
    this.editAckSeconds.observe(seconds);
  }

  /** One AI answer's numbers (relay/ai/model-performance.ts records one per answer). */
  recordAnswer(answer: {
    model: string;
    outcome: string;
    total_ms: number;
    time_to_first_token_ms: number | null;
    tokens_in: number;
    tokens_out: number;
  }): void {
    const model = answer.model === this.aiModel ? answer.model : OTHER;
    const outcome = (AiOutcome.options as readonly string[]).includes(answer.outcome) ? answer.outcome : OTHER;
    this.aiRequests.inc({ model, outcome });
    this.aiAnswerSeconds.observe({ model, outcome }, answer.total_ms / 1000);
    if (answer.time_to_first_token_ms !== null) this.aiFirstTokenSeconds.observe({ model }, answer.time_to_first_token_ms / 1000);
    if (answer.tokens_in > 0) this.aiTokens.inc({ model, direction: 'in' }, answer.tokens_in);
    if (answer.tokens_out > 0) this.aiTokens.inc({ model, direction: 'out' }, answer.tokens_out);
  }

  /** One piece of feedback (`POST /api/feedback` calls this once it has accepted it). */
  recordFeedback(rating: FeedbackRating): void {
    const stars = typeof rating === 'number' && Number.isInteger(rating) && rating >= 1 && rating <= 5;
    this.feedback.inc({ rating: typeof rating === 'string' || stars ? String(rating) : 'other' });
    this.feedbackRating.observe(rating === 'up' ? 5 : rating === 'down' ? 1 : rating);
  }

  /** The exposition text and its content type. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

/**
 * Each name of the closed list with its count (0 when none yet: the series exists from the start,
 * so `rate()` and the alerts see its first increase), and everything else summed as `other`.
 */
function byClosedList<K>(
  names: readonly string[],
  known: ReadonlySet<string>,
  counts: ReadonlyMap<K, number>,
  set: (name: string, value: number) => void,
): void {
  let other = 0;
  const found = new Map<string, number>();
  for (const [key, value] of counts) {
    const name = String(key);
    if (known.has(name)) found.set(name, value);
    else other += value;
  }
  for (const name of names) set(name, found.get(name) ?? 0);
  set(OTHER, other);
}
