import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import { OTHER } from './labels';

/**
 * The REST routes as templates, for the `route` label: a raw path would carry session and join
 * request ids (one series each, without bound). `relay/http/http-api.ts` routes the requests;
 * a route it gains and this list lacks is timed as `other` until added here.
 */
export const HTTP_ROUTES: ReadonlyArray<{ method: string; template: string; pattern: RegExp; status: number }> = [
  { method: 'GET', template: '/health', pattern: /^\/health$/, status: 200 },
  { method: 'GET', template: '/health/redis', pattern: /^\/health\/redis$/, status: 200 },
  { method: 'GET', template: '/health/websocket', pattern: /^\/health\/websocket$/, status: 200 },
  { method: 'GET', template: '/ws/stats', pattern: /^\/ws\/stats$/, status: 200 },
  { method: 'GET', template: '/api/metrics', pattern: /^\/api\/metrics$/, status: 200 },
  { method: 'POST', template: '/api/feedback', pattern: /^\/api\/feedback$/, status: 202 },
  { method: 'POST', template: '/api/notifications', pattern: /^\/api\/notifications$/, status: 202 },
  { method: 'POST', template: '/api/sessions', pattern: /^\/api\/sessions$/, status: 201 },
  { method: 'POST', template: '/api/invites/redeem', pattern: /^\/api\/invites\/redeem$/, status: 200 },
  { method: 'GET', template: '/api/sessions/:id', pattern: /^\/api\/sessions\/[^/]+$/, status: 200 },
  { method: 'DELETE', template: '/api/sessions/:id', pattern: /^\/api\/sessions\/[^/]+$/, status: 200 },
  { method: 'GET', template: '/api/sessions/:id/join-requests', pattern: /^\/api\/sessions\/[^/]+\/join-requests$/, status: 200 },
  {
    method: 'POST',
    template: '/api/sessions/:id/join-requests/:request',
    pattern: /^\/api\/sessions\/[^/]+\/join-requests\/[^/]+$/,
    status: 200,
  },
  { method: 'GET', template: '/api/join-requests/:request', pattern: /^\/api\/join-requests\/[^/]+$/, status: 200 },
  { method: 'GET', template: '/api/operator/status', pattern: /^\/api\/operator\/status$/, status: 200 },
  { method: 'GET', template: '/api/operator/sessions', pattern: /^\/api\/operator\/sessions$/, status: 200 },
  { method: 'GET', template: '/api/operator/alerts', pattern: /^\/api\/operator\/alerts$/, status: 200 },
  { method: 'POST', template: '/api/operator/notices', pattern: /^\/api\/operator\/notices$/, status: 202 },
  { method: 'DELETE', template: '/api/operator/sessions/:id', pattern: /^\/api\/operator\/sessions\/[^/]+$/, status: 200 },
  // The dashboard's files (the page, its script and styles): one series for all of them.
  { method: 'GET', template: '/dashboard/*', pattern: /^\/dashboard(\/.*)?$/, status: 200 },
];

const METHODS = new Set(['GET', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PUT', 'PATCH']);

/** The template of a request's route, or `other` (an unknown path, a 404). */
export function routeTemplate(method: string, path: string): string {
  for (const route of HTTP_ROUTES) if (route.pattern.test(path) && (route.method === method || method === 'OPTIONS')) return route.template;
  return OTHER;
}

/** Times the request until its response is written, labelled by method, route template and status. */
export function timeRequest(histogram: Histogram<'method' | 'route' | 'status'>, request: IncomingMessage, response: ServerResponse): void {
  const started = performance.now();
  response.once('finish', () => {
    const method = request.method && METHODS.has(request.method) ? request.method : OTHER;
    const url = request.url ?? '/';
    const query = url.indexOf('?');
    const route = routeTemplate(method, query === -1 ? url : url.slice(0, query));
    histogram.observe({ method, route, status: String(response.statusCode) }, (performance.now() - started) / 1000);
  });
}
