import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeServerFrame, type NotificationPayload, ProtocolError, SYSTEM_USER_ID } from '../protocol';
import { AiAnswers } from './ai/ai-answers';
import { AnswerPublisher } from './ai/answer-publisher';
import type { AnswerRegistry } from './ai/answer-registry';
import { MemoryAnswerRegistry } from './ai/memory-answer-registry';
import { OpenAiModelClient } from './ai/model-client';
import { RedisAnswerRegistry } from './ai/redis-answer-registry';
import type { ModelPerformanceSink } from './ai/model-performance';
import { type Availability, alwaysAvailable } from './broker/availability';
import type { Broker } from './broker/broker';
import { MemoryBroker } from './broker/memory-broker';
import { MemoryPresenceStore } from './broker/memory-presence';
import type { PresenceStore } from './broker/presence';
import { RedisBroker } from './broker/redis-broker';
import { RedisPresenceStore } from './broker/redis-presence';
import { assertLinksConfigured, ConfigError, type RelayConfig } from './config/config';
import type { DebugStateStore } from './debugging/debug-state-store';
import { Debugging } from './debugging/debugging';
import { MemoryDebugStateStore } from './debugging/memory-debug-state-store';
import { RedisDebugStateStore } from './debugging/redis-debug-state-store';
import { CommitForwarding } from './documents/commit-forwarding';
import { DocumentAuthority } from './documents/document-authority';
import type { DocumentStore } from './documents/document-store';
import { MemoryDocumentStore } from './documents/memory-document-store';
import { RedisDocumentStore } from './documents/redis-document-store';
import { Gateway } from './gateway/gateway';
import { HandlerContext } from './handlers/context';
import { createHandlers } from './handlers';
import { forwardedEditCommitter } from './handlers/collaboration';
import { HttpApi } from './http/http-api';
import { pathOf } from './http/http-util';
import { RequestLimits } from './http/request-limits';
import { createLogger, type Logger } from './log';
import { timeRequest } from './metrics/http-routes';
import { METRICS_PATH, MetricsEndpoint } from './metrics/metrics-endpoint';
import { timeRedisCommands } from './metrics/redis-commands';
import { RelayMetrics } from './metrics/relay-metrics';
import { RedisConnections } from './redis/redis-connection';
import { RedisOutageMonitor } from './redis/redis-outage';
import { Hub } from './routing/hub';
import { SessionsApi } from './http/sessions-api';
import { JoinApprovals } from './sessions/join-approvals';
import type { JoinRequestStore } from './sessions/join-request-store';
import { MemoryJoinRequestStore } from './sessions/memory-join-request-store';
import { MemorySessionStore } from './sessions/memory-session-store';
import { RedisJoinRequestStore } from './sessions/redis-join-request-store';
import { RedisSessionStore } from './sessions/redis-session-store';
import { SessionDirectory } from './sessions/session-directory';
import { Participants } from './sessions/participants';
import type { SessionStore } from './sessions/session-store';
import { Router } from './routing/router';
import { RelayStats } from './stats';
import { FeedbackApi } from './http/feedback-api';
import { MemoryStreamStore } from './streams/memory-stream-store';
import { MemoryWindowStore } from './streams/memory-window-store';
import { Monitoring } from './streams/monitoring';
import { OperatorFeed } from './streams/operator-feed';
import { HistogramLatencies } from './streams/histogram-latencies';
import { countingChat, OperatorSide } from './operator/operator-side';
import { RedisStreamStore } from './streams/redis-stream-store';
import { RedisWindowStore } from './streams/redis-window-store';
import type { StreamStore } from './streams/stream-store';
import type { WindowStore } from './streams/window-store';

export interface Relay {
  readonly relayId: string;
  readonly port: number;
  /** `ws://host:port/ws` */
  readonly url: string;
  /** Graceful: stop accepting, say `disconnect` (reason `shutdown`), drain, close. */
  stop(): Promise<void>;
}

export interface RelayOptions {
  config: RelayConfig;
  secret: string;
  logger?: Logger;
  /** Also receives each AI answer's model-performance record (they go to the model-performance stream in any case). */
  modelPerformance?: ModelPerformanceSink;
}

interface Storage {
  broker: Broker;
  presence: PresenceStore;
  documents: DocumentStore;
  sessionStore: SessionStore;
  joinRequests: JoinRequestStore;
  debugState: DebugStateStore;
  /** The AI answers running in every session, and which relay serves each. */
  answers: AnswerRegistry;
  /** The metrics, feedback and model-performance streams, and the rolling windows of their aggregates. */
  streams: StreamStore;
  windows: WindowStore;
  /** With REDIS_URL: the relay's two Redis connections (closed by the last of the four above). */
  redis?: RedisConnections;
}

/** Prefix of every Redis key and channel of the relay (broker, presence, documents, sessions). */
const REDIS_PREFIX = 'tandem:';

/**
 * Picks the bus and storage: the embedded in-memory ones unless REDIS_URL (one Redis) or
 * REDIS_CLUSTER_NODES (Redis Cluster: the same stores, see `RedisConnections.openCluster`) is set. A Redis that
 * cannot be reached at start-up stops the relay with one line (`RedisConnections.open` waits for
 * it, bounded): a wrong URL is better found at once than as a relay that never works. Once
 * started, the relay rides out any outage by itself (see `announceOutages`).
 */
async function createStorage(config: RelayConfig, relayId: string, log: Logger): Promise<Storage> {
  let redis: RedisConnections | undefined;
  try {
    redis = await RedisConnections.configured(config, { name: relayId, log });
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (!redis) {
    const broker = new MemoryBroker(config.sessionLogSize);
    return {
      broker,
      presence: new MemoryPresenceStore(),
      documents: new MemoryDocumentStore({
        historySize: config.documentHistorySize,
        idleTimeoutMs: config.documentIdleTimeoutMs,
        broker,
        historyMaxBytes: config.documentHistoryMaxBytes,
        maxPerSession: config.documentMaxPerSession,
      }),
      sessionStore: new MemorySessionStore(),
      joinRequests: new MemoryJoinRequestStore(),
      debugState: new MemoryDebugStateStore(debugStateOptions(config)),
      answers: new MemoryAnswerRegistry(),
      streams: new MemoryStreamStore(),
      windows: new MemoryWindowStore(),
    };
  }
  const made: Array<{ close(): Promise<void> }> = [];
  const keep = <T extends { close(): Promise<void> }>(part: T): T => (made.push(part), part);
  try {
    const broker = keep(new RedisBroker(redis, { relayId, prefix: REDIS_PREFIX, historySize: config.sessionLogSize, log }));
    // The name this relay's commit leases and forwards go by: a restarted relay is another one.
    const instance = `${relayId}.${randomUUID().slice(0, 8)}`;
    return {
      broker,
      presence: keep(new RedisPresenceStore(redis, relayId, { prefix: REDIS_PREFIX, log })),
      documents: keep(
        new RedisDocumentStore(redis, {
          historySize: config.documentHistorySize,
          idleTimeoutMs: config.documentIdleTimeoutMs,
          prefix: REDIS_PREFIX,
          maxPerSession: config.documentMaxPerSession,
          cacheOpsBytes: config.documentHistoryMaxBytes,
          historyMaxBytes: config.documentHistoryMaxBytes,
          instance,
        }),
      ),
      sessionStore: keep(new RedisSessionStore(redis, { prefix: REDIS_PREFIX })),
      joinRequests: keep(new RedisJoinRequestStore(redis, { prefix: REDIS_PREFIX })),
      debugState: keep(new RedisDebugStateStore(redis, { ...debugStateOptions(config), prefix: REDIS_PREFIX })),
      answers: keep(new RedisAnswerRegistry(redis, { relayId, leaseMs: config.aiLeaseMs, prefix: REDIS_PREFIX })),
      streams: keep(new RedisStreamStore(redis, { prefix: REDIS_PREFIX })),
      // Kept two windows past the last observation: the aggregates read one, late consumers write into the one before.
      windows: keep(new RedisWindowStore(redis, { prefix: REDIS_PREFIX, ttlMs: 2 * config.streams.windowMs + 60_000 })),
      redis,
    };
  } catch (error) {
    for (const part of made) await part.close();
    await redis.close();
    throw error;
  }
}

function debugStateOptions({ debugging }: RelayConfig) {
  return {
    maxBreakpoints: debugging.maxBreakpoints,
    maxBreakpointBytes: debugging.maxBreakpointBytes,
    idleTimeoutMs: debugging.idleTimeoutMs,
  };
}

/** Operator connections (the live metrics) one relay accepts at once. */
const MAX_OPERATOR_CONNECTIONS = 100;

/** Join requests one session may have waiting for its host at once. */
const MAX_PENDING_JOIN_REQUESTS = 20;

/** The composition root: reads nothing itself, wires the parts, listens. */
export async function startRelay({ config, secret, logger, modelPerformance }: RelayOptions): Promise<Relay> {
  assertLinksConfigured(config);
  const log = logger ?? createLogger(config.logLevel);
  const relayId = config.relayId ?? `relay-${randomUUID().slice(0, 8)}`;
  const storage = await createStorage(config, relayId, log);
  const { broker, presence, documents, sessionStore, joinRequests, debugState, answers, streams, windows, redis } = storage;
  const stats = new RelayStats();
  // With Redis: the edits of a document another relay commits go there (commit-forwarding.ts).
  const forwarding =
    documents instanceof RedisDocumentStore
      ? new CommitForwarding(broker, {
          instance: documents.instance,
          onForward: (outcome) => stats.countForward(outcome),
          onMalformed: (error) => log.warn({ err: error }, 'dropped a malformed forward from another relay'),
        })
      : undefined;
  const outage = redis ? new RedisOutageMonitor(redis) : undefined;
  const availability: Availability = outage ?? alwaysAvailable;
  const hub = new Hub(broker, stats, availability, forwarding && ((connectionId, echo) => forwarding.noteEcho(connectionId, echo)));
  // Gauges are read when scraped; `gateway` is made further down (and counts the hub's connections).
  const metrics = config.metrics.enabled
    ? new RelayMetrics({
        relayId,
        stats,
        aiModel: config.ai?.model,
        gauges: {
          connections: () => hub.connections.size,
          sessions: () => hub.sessionCount,
          openDocuments: () => hub.openDocumentCount,
          ...(outage && { redisUp: () => outage.available }),
        },
      })
    : undefined;
  if (metrics) {
    stats.timings = metrics;
    if (redis) timeRedisCommands(redis.command, metrics.redisSeconds);
  }
  // In this order (the broker last: the hub's subscriptions go through it); each part is closed
  // even if one before it failed. The last of them to let go of Redis closes its connections.
  const closeStorage = async () => {
    const parts = [forwarding, hub, presence, documents, sessionStore, joinRequests, debugState, answers, streams, windows, broker];
    for (const part of parts.filter((p) => p !== undefined)) {
      await part.close().catch((error: unknown) => log.warn({ err: error }, 'could not close a part of the storage'));
    }
  };
  let server: Server;
  let gateway: Gateway;
  let keepOpenDocuments: NodeJS.Timeout | undefined;
  let stopWatching = () => outage?.dispose();
  // The dashboard's side (operator/): made once the session directory exists; counts chat for its table.
  let operatorSide: OperatorSide | undefined;
  const debugging = new Debugging(debugState, hub, presence, config.debugging, log);
  const monitoring = new Monitoring(
    streams,
    windows,
    {
      stats,
      connections: () => hub.connections.size,
      sessions: () => hub.sessionCount,
      documents: () => [...hub.openDocuments()].length,
      ...(metrics && { latencies: latencySampler(metrics) }),
      redisLatencyMs: async () => {
        if (!redis) return undefined;
        const health = await broker.health();
        return health.status === 'up' ? health.latencyMs : undefined;
      },
    },
    { relayId, settings: config.streams, log, ...(modelPerformance && { modelPerformance }) },
  );
  const operators = new OperatorFeed(monitoring.aggregates, {
    maxConnections: MAX_OPERATOR_CONNECTIONS,
    maxBufferedBytes: config.limits.maxBufferedBytes,
    log,
  });
  const ai = new AiAnswers({
    settings: config.ai,
    model: config.ai && new OpenAiModelClient(config.ai),
    registry: answers,
    leaseMs: config.aiLeaseMs,
    publisher: new AnswerPublisher(hub),
    broker,
    sink: withAnswerMetrics(monitoring.modelPerformance, metrics),
    relayId,
    log,
  });
  try {
    await hub.start();
    debugging.start();
    await ai.start();
    await monitoring.start();
    const authority = new DocumentAuthority(
      documents,
      {
        maxLength: config.documentMaxLength,
        maxTransformCost: config.editMaxTransformCost,
        transformCostPerSecond: config.editTransformCostPerSecond,
        onRecovery: (kind) => stats.countRecovery(kind),
      },
      forwarding,
    );
    const handlerContext = new HandlerContext(hub, relayId, authority, presence, {
      maxOpenPerConnection: config.documentMaxOpenPerConnection,
      maxPendingPieceBytes: config.documentMaxPendingPieceBytes,
    });
    await forwarding?.start(forwardedEditCommitter(handlerContext));
    const router = new Router(
      countingChat(createHandlers(handlerContext, debugging, ai, config.tunnels), (sessionId) => operatorSide?.view.countChat(sessionId)),
    );
    keepOpenDocuments = keepDocumentsAlive(hub, documents, config.documentIdleTimeoutMs, log);
    // An ended session's debugging state that cannot be deleted now (Redis away) expires when idle.
    const sessions = new SessionDirectory(sessionStore, hub, (id) =>
      debugging.ended(id).catch((error: unknown) => log.warn({ err: error, session: id }, 'could not delete debugging state')),
    );
    const participants = new Participants(sessionStore, hub, presence);
    operatorSide = new OperatorSide({
      relayId,
      secret,
      prometheusUrl: config.prometheusUrl,
      redis,
      redisPrefix: REDIS_PREFIX,
      hub,
      broker,
      availability,
      documents,
      directory: sessions,
      streams,
      log,
    });
    operatorSide.start();
    gateway = new Gateway({
      config,
      secret,
      relayId,
      hub,
      router,
      presence,
      sessions: retryableWhileUnreachable(sessions, availability),
      participants: {
        standing: (id, userId) => retryWhileUnreachable(availability, () => participants.standing(id, userId)),
      },
      availability,
      stats,
      log,
      lifecycle: debugging,
      operators,
    });
    if (outage) stopWatching = announceOutages(outage, hub, log);
    const limits = new RequestLimits({
      perIpPerMinute: config.api.maxRequestsPerIpPerMinute,
      perUserPerMinute: config.api.maxRequestsPerUserPerMinute,
      trustProxy: config.trustProxy,
    });
    const approvals = new JoinApprovals(joinRequests, sessions, hub, {
      timeoutMs: config.joinApprovalTimeoutMs,
      maxPending: MAX_PENDING_JOIN_REQUESTS,
    });
    const api = new HttpApi({
      relayId,
      secret,
      redisConfigured: redis !== undefined,
      corsOrigins: config.corsOrigins,
      gateway,
      hub,
      broker,
      availability,
      stats,
      sessions: new SessionsApi({
        secret,
        sessions,
        presence,
        publicUrl: config.publicUrl,
        allowedHosts: config.allowedHosts,
        trustProxy: config.trustProxy,
        limits,
        approvals,
        participants,
      }),
      limits,
      feedback: new FeedbackApi({
        secret,
        relayId,
        limits,
        append: (entry) => {
          metrics?.recordFeedback(entry.rating);
          return monitoring.appendFeedback(entry);
        },
      }),
      metrics: monitoring,
      operator: operatorSide.api,
      dashboard: operatorSide.dashboard,
      operatorOnlyStats: config.production,
      log,
    });
    const metricsEndpoint = metrics && new MetricsEndpoint(metrics, config.metrics.token, log);
    server = createServer(httpServerOptions(config.httpRequestTimeoutMs), (request, response) => {
      if (metricsEndpoint) {
        if (pathOf(request) === METRICS_PATH) return metricsEndpoint.handle(request, response);
        timeRequest(metrics.httpSeconds, request, response);
      }
      api.handle(request, response);
    });
    gateway.attach(server);
    const listening = server;
    await new Promise<void>((resolve, reject) => {
      listening.once('error', reject);
      listening.listen(config.port, config.host, () => {
        listening.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // Whatever was made is let go, Redis connections included, so a failed start leaves nothing behind.
    stopWatching();
    clearInterval(keepOpenDocuments);
    await ai.shutdown();
    await monitoring.stop();
    await operatorSide?.stop();
    debugging.dispose();
    await closeStorage();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `ws://${host}:${port}/ws`;
  log.info(
    { relay: relayId, url, storage: redis ? (redis.cluster ? 'redis-cluster' : 'redis') : 'memory', ai_model: config.ai?.model },
    'relay listening',
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ relay: relayId, connections: gateway.connectionCount }, 'shutting down');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      stopWatching();
      // Before the clients go: the answers served here end with AI_RELAY_LOST while they can see it.
      await ai.shutdown();
      await gateway.shutdown(config.shutdownTimeoutMs);
      clearInterval(keepOpenDocuments);
      debugging.dispose();
      await monitoring.stop();
      await operatorSide?.stop();
      server.closeAllConnections();
      await closed;
      await closeStorage();
      log.info({ relay: relayId }, 'stopped');
    })());

  return { relayId, port, url, stop };
}

/** The hot paths' latencies for the metrics samples, from the Prometheus histograms. */
function latencySampler(metrics: RelayMetrics): () => ReturnType<HistogramLatencies['sample']> {
  const latencies = new HistogramLatencies(metrics.registry);
  return () => latencies.sample();
}

/** Each AI answer's record also feeds the AI metrics (when enabled), then goes where it went before. */
function withAnswerMetrics(sink: ModelPerformanceSink, metrics: RelayMetrics | undefined): ModelPerformanceSink {
  if (!metrics) return sink;
  return {
    record: (record) => {
      metrics.recordAnswer(record);
      sink.record(record);
    },
  };
}

/**
 * Node's defaults let a client hold a request open for 300 s (a slow body, one byte at a time)
 * and check for that only every 30 s: a few hundred such sockets tie the relay up. The whole
 * request, headers included, must arrive within HTTP_REQUEST_TIMEOUT_MS (then 408 and close);
 * checked often enough to hold to it. WebSocket upgrades are past this once their headers are in.
 */
function httpServerOptions(requestTimeoutMs: number) {
  return {
    requestTimeout: requestTimeoutMs,
    headersTimeout: requestTimeoutMs,
    connectionsCheckingInterval: Math.min(1000, Math.max(250, Math.floor(requestTimeoutMs / 4))),
  };
}

/**
 * Refuses a connection with a status the client retries (503 BROKER_UNAVAILABLE) while the
 * session store cannot be asked whether the session has ended (Redis unreachable): refusing it
 * for good, or admitting a session that may have ended, would both be wrong.
 */
function retryableWhileUnreachable(sessions: SessionDirectory, availability: Availability): Pick<SessionDirectory, 'assertLive'> {
  return { assertLive: (id, recordRequired) => retryWhileUnreachable(availability, () => sessions.assertLive(id, recordRequired)) };
}

/** The answer of a session store call, or BROKER_UNAVAILABLE (retryable) when Redis cannot be reached. */
async function retryWhileUnreachable<T>(availability: Availability, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (availability.isUnavailableError(error)) throw new ProtocolError('BROKER_UNAVAILABLE');
    throw error;
  }
}

const OUTAGE_NOTICE =
  'The relay lost its connection to Redis: chat, edits and other shared events are held (your client sends them again) until it is ' +
  'back; cursors still reach the participants on this relay.';
const RESTORED_NOTICE = 'The relay is connected to Redis again: reconnecting to catch up on what was held.';

/**
 * Tells the relay's clients about each Redis outage, once when it begins and once when it is
 * over (the monitor debounces a flapping connection), straight to their sockets: the broker is
 * the thing that is down. Then, once Redis is back, every client is told to reconnect.
 *
 * Why everyone reconnects: pub/sub is at most once. While this relay's subscriber connection was
 * down, it missed what was published meanwhile: commits (its clients of a document would see a
 * gap in the revisions, or never get the ack of an op they sent) and session events (chat,
 * joins). While only its command connection was down, its own writes failed: frames refused with
 * BROKER_UNAVAILABLE that the clients hold, presence left behind by those who left. A reconnect
 * settles all of it: the client resumes the session log from the last offset it saw, rejoins its
 * documents from the revision it has (`collaboration.open`), so it gets exactly what it missed,
 * announces itself again, and sends what it held. Returns a function that stops watching.
 */
function announceOutages(outage: RedisOutageMonitor, hub: Hub, log: Logger): () => void {
  outage.onOutage({
    down: (reason) => {
      log.warn(
        { reason, connections: hub.connections.size },
        'redis unreachable: clients told; cursors stay local, the rest is refused with BROKER_UNAVAILABLE',
      );
      notifyLocally(hub, { level: 'warning', code: 'BROKER_UNAVAILABLE', message: OUTAGE_NOTICE });
    },
    up: (downForMs) => {
      log.warn(
        { downForMs, connections: hub.connections.size },
        'redis reachable again: clients reconnect to catch up on the session log and their documents',
      );
      notifyLocally(hub, { level: 'info', code: 'BROKER_RESTORED', message: RESTORED_NOTICE });
      for (const connection of [...hub.connections]) {
        connection.disconnect('server_error', 'the relay lost its connection to Redis for a while; reconnect to catch up', true);
      }
    },
  });
  return () => outage.dispose();
}

/** A notice to every client of this relay, through the hub's local fan-out only. */
function notifyLocally(hub: Hub, notice: NotificationPayload): void {
  for (const sessionId of [...hub.localSessionIds]) {
    const data = encodeServerFrame('system.notification', notice, { userId: SYSTEM_USER_ID, sessionId });
    hub.toLocalSession(sessionId, { eventType: 'system.notification', data });
  }
}

/**
 * The store drops a document nobody used for the idle timeout; one that is merely open (someone
 * reading, or thinking) must stay, so the documents open here are touched well within it.
 */
function keepDocumentsAlive(hub: Hub, documents: DocumentStore, idleTimeoutMs: number, log: Logger): NodeJS.Timeout {
  return setInterval(
    () => {
      // During an outage every touch would fail (and log); the first after it keeps them all.
      if (!hub.availability.available) return;
      for (const { sessionId, documentId } of hub.openDocuments()) {
        documents
          .touch(sessionId, documentId)
          .catch((error: unknown) => log.warn({ err: error, session: sessionId }, 'could not keep a document alive'));
      }
    },
    Math.max(100, idleTimeoutMs / 4),
  ).unref();
}
