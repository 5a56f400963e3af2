import type { IncomingMessage, ServerResponse } from 'node:http';
import { NotificationPayload, ProtocolError, SessionId, SYSTEM_USER_ID, UserId } from '../../protocol';
import { verifyToken } from '../auth/tokens';
import type { Broker } from '../broker/broker';
import type { Gateway } from '../gateway/gateway';
import { serverFrame } from '../gateway/server-frame';
import type { Logger } from '../log';
import type { Hub } from '../routing/hub';
import type { RelayStats } from '../stats';

const MAX_BODY_BYTES = 64 * 1024;

export interface HttpApiDeps {
  relayId: string;
  secret: string;
  redisConfigured: boolean;
  corsOrigins: readonly string[];
  gateway: Gateway;
  hub: Hub;
  broker: Broker;
  stats: RelayStats;
  log: Logger;
}

type Status = 'up' | 'down' | 'not_configured';

const NotificationRequest = NotificationPayload.extend({
  /** Absent: every session on every relay (admins only). */
  session_id: SessionId.optional(),
  /** Only this user's connections. */
  user_id: UserId.optional(),
});

/** The REST surface: health, stats, and notifications pushed to sessions. JSON in and out. */
export class HttpApi {
  constructor(private readonly deps: HttpApiDeps) {}

  handle(request: IncomingMessage, response: ServerResponse): void {
    this.route(request, response).catch((error: unknown) => {
      const known = error instanceof ProtocolError;
      if (!known) this.deps.log.error({ err: error, path: pathOf(request) }, 'request failed');
      const status = known ? statusOf(error) : 500;
      const body = known ? { code: error.code, message: error.message, ...(error.path && { path: error.path }) } : { code: 'INTERNAL', message: 'internal error' };
      send(response, status, body);
    });
  }

  private async route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    this.applyCors(request, response);
    const path = pathOf(request);
    const method = request.method ?? 'GET';
    if (method === 'OPTIONS') return send(response, 204);
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /health':
        return this.health(response);
      case 'GET /health/redis':
        return send(response, ...(await this.redisHealth()));
      case 'GET /health/websocket':
        return send(response, ...this.websocketHealth());
      case 'GET /ws/stats':
        return send(response, 200, this.wsStats());
      case 'POST /api/notifications':
        return send(response, 202, await this.notify(request));
      default:
        return send(response, 404, { code: 'NOT_FOUND', message: `no route for ${method} ${path}` });
    }
  }

  private async health(response: ServerResponse): Promise<void> {
    const [redisStatus, redis] = await this.redisHealth();
    const [websocketStatus, websocket] = this.websocketHealth();
    const broker = await this.deps.broker.health();
    const healthy = redisStatus === 200 && websocketStatus === 200 && broker.status === 'up';
    send(response, healthy ? 200 : 503, {
      status: healthy ? 'ok' : 'unavailable',
      relay_id: this.deps.relayId,
      uptime_s: this.deps.stats.snapshot().uptime_s,
      checks: { websocket, redis, broker },
    });
  }

  private async redisHealth(): Promise<[number, { status: Status; latency_ms?: number; detail?: string }]> {
    if (!this.deps.redisConfigured) {
      return [200, { status: 'not_configured', detail: 'REDIS_URL is not set; the relay uses its embedded in-memory bus and storage' }];
    }
    const health = await this.deps.broker.health();
    const body = { status: health.status, ...(health.latencyMs !== undefined && { latency_ms: health.latencyMs }), ...(health.detail && { detail: health.detail }) };
    return [health.status === 'up' ? 200 : 503, body];
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

  /** Hosts may notify their own session; admins anyone, everyone included. */
  private async notify(request: IncomingMessage): Promise<{ delivered_to: string }> {
    const principal = verifyToken(this.deps.secret, bearerToken(request));
    const parsed = NotificationRequest.safeParse(await readJson(request));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue?.path.join('.') || undefined;
      throw new ProtocolError('VALIDATION_FAILED', `${path ?? 'body'}: ${issue?.message ?? 'invalid'}`, path);
    }
    const { session_id: sessionId, user_id: userId, ...notification } = parsed.data;
    const isHostOfSession = sessionId !== undefined && principal.role === 'host' && principal.sessions.includes(sessionId);
    if (!principal.admin && !isHostOfSession) {
      throw new ProtocolError('FORBIDDEN_ROLE', sessionId ? `only the session's host or an admin can notify "${sessionId}"` : 'only an admin can notify every session');
    }
    const audience = userId ? { users: [userId] } : {};
    const message = { eventType: 'system.notification', data: serverFrame('system.notification', notification, { userId: SYSTEM_USER_ID, sessionId }) };
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
    response.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
    response.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
  }
}

function statusOf(error: ProtocolError): number {
  if (error.code.startsWith('AUTH_')) return 401;
  if (error.code === 'SESSION_FORBIDDEN' || error.code === 'FORBIDDEN_ROLE') return 403;
  if (error.code === 'FRAME_TOO_LARGE') return 413;
  return 400;
}

function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

function send(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ProtocolError('FRAME_TOO_LARGE', `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ProtocolError('BAD_JSON', 'the request body is not valid JSON');
  }
}

