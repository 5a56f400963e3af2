import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log';
import type { RelayMetrics } from './relay-metrics';

/** The path Prometheus scrapes. Nginx answers 404 for it (docker/nginx.conf): scrapes go to each relay directly. */
export const METRICS_PATH = '/metrics';

/**
 * `GET /metrics`: the Prometheus text format. Open unless `token` is set (METRICS_TOKEN): then only
 * with `Authorization: Bearer <token>` (Prometheus: `authorization: { credentials_file: ... }`).
 * The figures name no user, session or document, but tell who is busy and how much.
 */
export class MetricsEndpoint {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly metrics: RelayMetrics,
    token: string | undefined,
    private readonly log: Logger,
  ) {
    this.tokenDigest = token === undefined ? undefined : digest(token);
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply(response, 404, { code: 'NOT_FOUND', message: `no route for ${request.method ?? '?'} /metrics` });
    }
    if (!this.authorized(request)) {
      return reply(
        response,
        401,
        { code: 'AUTH_TOKEN_INVALID', message: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>' },
        { 'WWW-Authenticate': 'Bearer realm="metrics"' },
      );
    }
    this.metrics.exposition().then(
      ({ contentType, text }) => {
        response.writeHead(200, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        this.log.error({ err: error }, 'could not collect the metrics');
        reply(response, 500, { code: 'INTERNAL', message: 'internal error' });
      },
    );
  }

  private authorized(request: IncomingMessage): boolean {
    if (!this.tokenDigest) return true;
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    return match !== null && timingSafeEqual(digest(match[1]!), this.tokenDigest);
  }
}

/** Equal-length digests: the comparison takes the same time whatever the token's length. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}
