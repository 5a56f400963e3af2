import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';

/**
 * The dashboard's page at `/dashboard/` (the browser shell of electron-dashboard/renderer): the
 * bundle's files, read once at start-up (a fixed set: no path from a request ever reaches the
 * file system), served with a strict CSP: scripts, styles, fetches and the WebSocket to this
 * origin only, nothing inline, no framing.
 */

export const DASHBOARD_PATH = '/dashboard';

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

const SECURITY_HEADERS = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cache-Control': 'no-cache',
};

/** Where the bundle is: beside dist/relay.js, or dist/dashboard under the working directory (the relay run from source). */
export function findDashboardDir(): string | undefined {
  return [join(__dirname, 'dashboard'), join(process.cwd(), 'dist', 'dashboard')].find((dir) => existsSync(join(dir, 'index.html')));
}

export class DashboardFiles {
  private readonly files = new Map<string, { body: Buffer; type: string }>();

  constructor(dir: string | undefined) {
    if (!dir) return;
    for (const name of readdirSync(dir)) {
      const type = TYPES[extname(name)];
      if (type) this.files.set(name, { body: readFileSync(join(dir, name)), type });
    }
  }

  /** Whether the request is the dashboard's (answered here), or someone else's. */
  handle(request: IncomingMessage, response: ServerResponse, path: string): boolean {
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      respond(response, 405, 'text/plain; charset=utf-8', 'the dashboard is read with GET\n', { Allow: 'GET, HEAD' });
      return true;
    }
    if (path === DASHBOARD_PATH) {
      response.writeHead(308, { Location: `${DASHBOARD_PATH}/` }).end();
      return true;
    }
    const name = path.slice(DASHBOARD_PATH.length + 1) || 'index.html';
    const file = this.files.get(name);
    if (!file) {
      const message =
        this.files.size === 0 ? 'the dashboard is not built: run `npm run build` (it makes dist/dashboard/)\n' : `no such file: ${name}\n`;
      respond(response, 404, 'text/plain; charset=utf-8', message);
      return true;
    }
    respond(response, 200, file.type, request.method === 'HEAD' ? undefined : file.body, { 'Content-Length': String(file.body.length) });
    return true;
  }
}

function respond(
  response: ServerResponse,
  status: number,
  type: string,
  body: string | Buffer | undefined,
  extra: Record<string, string> = {},
) {
  response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, ...extra }).end(body);
}
