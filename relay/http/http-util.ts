import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ProtocolError } from '../../protocol';

/** Small helpers shared by the REST routes: JSON in and out, bearer tokens, error statuses. */

const MAX_BODY_BYTES = 64 * 1024;

export function statusOf(error: ProtocolError): number {
  if (error.code.startsWith('AUTH_')) return 401;
  if (
    error.code === 'SESSION_FORBIDDEN' ||
    error.code === 'FORBIDDEN_ROLE' ||
    error.code === 'OPERATOR_ONLY' ||
    error.code === 'JOIN_DENIED' ||
    error.code === 'PARTICIPANT_REMOVED'
  )
    return 403;
  if (error.code === 'NOT_FOUND' || error.code === 'SESSION_NOT_FOUND') return 404;
  if (
    error.code === 'SESSION_ENDED' ||
    error.code === 'INVITE_USED_UP' ||
    error.code === 'INVITE_REVOKED' ||
    error.code === 'JOIN_REQUEST_EXPIRED'
  )
    return 410;
  if (error.code === 'FRAME_TOO_LARGE') return 413;
  if (error.code === 'UNSUPPORTED_MEDIA_TYPE') return 415;
  if (error.code === 'API_RATE_LIMITED') return 429;
  if (error.code === 'PROMETHEUS_UNAVAILABLE') return 502;
  return 400;
}

export function pathOf(request: IncomingMessage): string {
  const url = request.url ?? '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

export function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

export function send(response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    response.writeHead(status, headers).end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, { ...headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

/** A path segment decoded, or VALIDATION_FAILED: `%E0%A4%A` is the client's mistake, not a 500. */
export function decodeSegment(segment: string, what: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ProtocolError('VALIDATION_FAILED', `${what}: malformed percent-encoding`, what);
  }
}

/**
 * Bodies must say they are JSON. A browser page may POST `text/plain` or a form to another
 * origin without asking first (no CORS preflight); `application/json` always needs one, so
 * insisting on it keeps other sites from making a visitor's browser call the API.
 */
function assertJsonContentType(request: IncomingMessage): void {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new ProtocolError(
      'UNSUPPORTED_MEDIA_TYPE',
      `send the body as JSON with Content-Type: application/json (got ${mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'none'})`,
    );
  }
}

export async function readJson(request: IncomingMessage): Promise<unknown> {
  assertJsonContentType(request);
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

/** The body parsed by `schema`, or VALIDATION_FAILED naming the first bad field. */
export async function readBody<T>(request: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const parsed = schema.safeParse(await readJson(request));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.join('.') || undefined;
  throw new ProtocolError('VALIDATION_FAILED', `${path ?? 'body'}: ${issue?.message ?? 'invalid'}`, path);
}
