import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  encodeServerFrame,
  JoinRequestId,
  type MetricsAggregates,
  NotificationPayload,
  ProtocolError,
  SessionId,
  SYSTEM_USER_ID,
  UserId,
} from '../../protocol';
import { verifyOperator, verifyToken } from '../auth/tokens';
import type { Availability } from '../broker/availability';
import type { Broker, BrokerHealth } from '../broker/broker';
import type { Gateway } from '../gateway/gateway';
import type { Logger } from '../log';
import type { Hub } from '../routing/hub';
import type { RelayStats } from '../stats';
import { bearerToken, decodeSegment, pathOf, readBody, send, statusOf } from './http-util';
import type { RequestLimits } from './request-limits';
import type { FeedbackApi } from './feedback-api';
import type { Reply, SessionsApi } from './sessions-api';
import type { DashboardFiles } from '../operator/dashboard-files';
import type { OperatorApi } from '../operator/operator-api';

export interface HttpApiDeps {
  relayId: string;
  secret: string;
  redisConfigured: boolean;
  corsOrigins: readonly string[];
  gateway: Gateway;
  hub: Hub;
  broker: Broker;
  availability: Availability;
  stats: RelayStats;
  sessions: SessionsApi;
  feedback: FeedbackApi;
  /** The live aggregates of the data streams (`GET /api/metrics`, operators only). */
  metrics: { latest(): Promise<MetricsAggregates> };
  /** The dashboard's calls (`/api/operator/*`) and its page (`/dashboard/`). */
  operator?: OperatorApi;
  dashboard?: DashboardFiles;
  /** Budgets of the calls that create or guess (shared with `sessions`). */
  limits: RequestLimits;
  /** Production: `/ws/stats` needs an operator or admin token (it tells an outsider who is busy, and how much). */
  operatorOnlyStats: boolean;
  log: Logger;
}

type Status = 'up' | 'down' | 'not_configured';

const NotificationRequest = NotificationPayload.extend({
  /** Absent: every session on every relay (admins only). */
  session_id: SessionId.optional(),
  /** Only this user's connections. */
  user_id: UserId.optional(),
});

const SESSION_PATH = /^\/api\/sessions\/([^/]+)$/;
const JOIN_REQUESTS_PATH = /^\/api\/sessions\/([^/]+)\/join-requests(?:\/([^/]+))?$/;
const JOIN_STATUS_PATH = /^\/api\/join-requests\/([^/]+)$/;
const PARTICIPANT_PATH = /^\/api\/sessions\/([^/]+)\/participants\/([^/]+)$/;
const INVITES_PATH = /^\/api\/sessions\/([^/]+)\/invites$/;
/**
 * The relay's figures: who is busy and how much is nobody else's business in production (see
 * `assertOperator`). The metrics document (`GET /api/metrics`) is an operator's everywhere.
 */
const OPERATOR_PATHS: ReadonlySet<string> = new Set(['/ws/stats']);
/** Seconds a client is told to wait after API_RATE_LIMITED: the limits' windows are a minute. */
const RETRY_AFTER_S = '60';

/** The REST surface: health, stats, sessions and invites, notifications pushed to sessions. JSON in and out. */
export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  handle(request: IncomingMessage, response: ServerResponse): void {
    this.route(request, response).catch((error: unknown) => {
      if (error instanceof ProtocolError) {
        const headers: Record<string, string> = error.code === 'API_RATE_LIMITED' ? { 'Retry-After': RETRY_AFTER_S } : {};
        return send(
          response,
          statusOf(error),
          { code: error.code, message: error.message, ...(error.path && { path: error.path }) },
          headers,
        );
      }
      // Redis unreachable: a status clients retry, and no error log per request (the outage is logged once).
      if (this.deps.availability.isUnavailableError(error)) {
        return send(response, 503, {
          code: 'BROKER_UNAVAILABLE',
          message:
            'the relay cannot reach its message broker (Redis) right now; the request was not handled (or not confirmed): try again ' +
            'shortly',
        });
      }
      this.deps.log.error({ err: error, path: pathOf(request) }, 'request failed');
      send(response, 500, { code: 'INTERNAL', message: 'internal error' });
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.applyCors(request, response);
    const path = pathOf(request);
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') return send(response, 204);
    if (this.deps.dashboard?.handle(request, response, path)) return;
    if (this.deps.operator && path.startsWith('/api/operator/')) {
      const answer = await this.deps.operator.route(request, method, path);
      if (answer) return send(response, ...answer);
    }
    const key = `${method} ${path}`;
    if (method === 'GET' && OPERATOR_PATHS.has(path)) this.assertOperator(request);
    switch (key) {
      case 'GET /health':
        return this.health(response);
      case 'GET /health/redis':
        return send(response, ...(await this.redisHealth()));
      case 'GET /health/websocket':
        return send(response, ...this.websocketHealth());
      case 'GET /ws/stats':
        return send(response, 200, this.wsStats());
      case 'GET /api/metrics':
        verifyOperator(this.deps.secret, bearerToken(request));
        return send(response, 200, await this.deps.metrics.latest());
      case 'POST /api/feedback':
        return send(response, 202, await this.deps.feedback.submit(request));
      case 'POST /api/notifications':
        return send(response, 202, await this.notify(request));
      case 'POST /api/sessions':
        return send(response, 201, await this.deps.sessions.create(request));
      case 'POST /api/invites/redeem':
        return reply(response, await this.deps.sessions.redeem(request));
    }
    const session = SESSION_PATH.exec(path);
    if (session) {
      const sessionId = sessionIdOf(session[1]!);
      if (method === 'GET') return send(response, 200, await this.deps.sessions.get(request, sessionId));
      if (method === 'DELETE') return send(response, 200, await this.deps.sessions.end(request, sessionId));
    }
    const joinRequests = JOIN_REQUESTS_PATH.exec(path);
    if (joinRequests) {
      const sessionId = sessionIdOf(joinRequests[1]!);
      if (joinRequests[2] === undefined && method === 'GET')
        return send(response, 200, await this.deps.sessions.joinRequests(request, sessionId));
      if (joinRequests[2] !== undefined && method === 'POST')
        return send(response, 200, await this.deps.sessions.decide(request, sessionId, joinRequestIdOf(joinRequests[2])));
    }
    const participant = PARTICIPANT_PATH.exec(path);
    if (participant) {
      const sessionId = sessionIdOf(participant[1]!);
      const userId = userIdOf(participant[2]!);
      if (method === 'DELETE') return send(response, 200, await this.deps.sessions.removeParticipant(request, sessionId, userId));
      if (method === 'PATCH') return send(response, 200, await this.deps.sessions.changeRole(request, sessionId, userId));
    }
    const invites = INVITES_PATH.exec(path);
    if (invites && method === 'POST') return send(response, 200, await this.deps.sessions.renewInvites(request, sessionIdOf(invites[1]!)));
    const joinStatus = JOIN_STATUS_PATH.exec(path);
    if (joinStatus && method === 'GET')
      return reply(response, await this.deps.sessions.joinStatus(request, joinRequestIdOf(joinStatus[1]!)));
    return send(response, 404, { code: 'NOT_FOUND', message: `no route for ${method} ${path}` });
  }

  private async health(response: ServerResponse): Promise<void> {
    // One PING answers both checks: with Redis frozen, each would wait out its own timeout.
    const broker = await this.brokerHealth();
    const [redisStatus, redis] = await this.redisHealth(broker);
    const [websocketStatus, websocket] = this.websocketHealth();
    const healthy = redisStatus === 200 && websocketStatus === 200 && broker.status === 'up';
    send(response, healthy ? 200 : 503, {
      status: healthy ? 'ok' : 'unavailable',
      relay_id: this.deps.relayId,
      uptime_s: this.deps.stats.snapshot().uptime_s,
      checks: { websocket, redis, broker },
    });
  }

  /**
   * With REDIS_URL, the broker's check is Redis's: the broker, presence, documents and sessions
   * share its connections, and a PING on the command connection measures `latency_ms`.
   */
  private async redisHealth(known?: BrokerHealth): Promise<[number, { status: Status; latency_ms?: number; detail?: string }]> {
    if (!this.deps.redisConfigured) {
      return [200, { status: 'not_configured', detail: 'REDIS_URL is not set; the relay uses its embedded in-memory bus and storage' }];
    }
    const health = known ?? (await this.brokerHealth());
    const body = {
      status: health.status,
      ...(health.latencyMs !== undefined && { latency_ms: health.latencyMs }),
      ...(health.detail && { detail: health.detail }),
    };
    return [health.status === 'up' ? 200 : 503, body];
  }

  /**
   * The broker's PING, and the relay's own view: just after an outage Redis answers again, but
   * the relay still refuses connections (and has not told its clients) until it has stayed up
   * for a moment; its health says the same.
   */
  private async brokerHealth(): Promise<BrokerHealth> {
    const health = await this.deps.broker.health();
    if (health.status === 'down' || this.deps.availability.available) return health;
    return { status: 'down', kind: health.kind, detail: 'reachable again, making sure it stays up' };
  }

  private websocketHealth(): [number, { status: Status; connections: number; detail?: string }] {
    const { gateway } = this.deps;
    if (gateway.isDraining) return [503, { status: 'down', connections: gateway.connectionCount, detail: 'shutting down' }];
    return [200, { status: 'up', connections: gateway.connectionCount }];
  }

  private wsStats() {
    return {
      relay_id: this.deps.relayId,
      connections: this.deps.gateway.connectionCount,
      sessions: this.deps.hub.sessionCount,
      ...this.deps.stats.snapshot(),
    };
  }

  /** In production, only operators (an admin token) read the relay's figures. */
  private assertOperator(request: IncomingMessage): void {
    if (!this.deps.operatorOnlyStats) return;
    verifyOperator(this.deps.secret, bearerToken(request), 'FORBIDDEN_ROLE');
  }

  /** Hosts may notify their own (live) session; admins anyone, everyone included. */
  private async notify(request: IncomingMessage): Promise<{ delivered_to: string }> {
    this.deps.limits.checkAddress(request);
    const principal = verifyToken(this.deps.secret, bearerToken(request));
    this.deps.limits.checkUser(principal.userId);
    const { session_id: sessionId, user_id: userId, ...notification } = await readBody(request, NotificationRequest);
    const isHostOfSession = sessionId !== undefined && principal.role === 'host' && principal.sessions.includes(sessionId);
    if (!principal.admin && !isHostOfSession) {
      throw new ProtocolError(
        'FORBIDDEN_ROLE',
        sessionId ? `only the session's host or an admin can notify "${sessionId}"` : 'only an admin can notify every session',
      );
    }
    if (!principal.admin && sessionId !== undefined) await this.deps.sessions.assertTokenLive(principal, sessionId);
    const audience = userId ? { users: [userId] } : {};
    const message = {
      eventType: 'system.notification',
      data: encodeServerFrame('system.notification', notification, { userId: SYSTEM_USER_ID, sessionId }),
    };
    if (sessionId) await this.deps.hub.toSession(sessionId, message, audience, { history: true });
    else await this.deps.hub.toEveryone(message, audience);
    return { delivered_to: sessionId ? `session ${sessionId}` : 'every session' };
  }

  private applyCors(request: IncomingMessage, response: ServerResponse): void {
    const origin = request.headers.origin;
    const allowed = this.deps.corsOrigins;
    if (!origin || !(allowed.includes('*') || allowed.includes(origin))) return;
    response.setHeader('Access-Control-Allow-Origin', allowed.includes('*') ? '*' : origin);
    response.setHeader('Vary', 'Origin');
    response.setHeader('Access-Control-Allow-Methods', 'GET, POST, PATCH, DELETE, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
  }
}

function reply(response: ServerResponse, { status, body }: Reply): void {
  send(response, status, body);
}

function sessionIdOf(segment: string): string {
  const sessionId = SessionId.safeParse(decodeSegment(segment, 'path'));
  if (!sessionId.success) throw new ProtocolError('SESSION_NOT_FOUND', 'not a session id', 'path');
  return sessionId.data;
}

function userIdOf(segment: string): string {
  const userId = UserId.safeParse(decodeSegment(segment, 'path'));
  if (!userId.success) throw new ProtocolError('VALIDATION_FAILED', `the user id in the path ${userId.error.issues[0]!.message}`, 'path');
  return userId.data;
}

function joinRequestIdOf(segment: string): string {
  const id = JoinRequestId.safeParse(decodeSegment(segment, 'path'));
  if (!id.success) throw new ProtocolError('JOIN_REQUEST_EXPIRED', 'not a join request id', 'path');
  return id.data;
}
