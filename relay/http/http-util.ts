import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { ProtocolError } from '../../protocol';

/** Small helpers shared by the REST routes: JSON in and out, bearer tokens, error statuses. */

const MAX_BODY_BYTES = 64 * 1024;

export function statusOf(error: ProtocolError): number {
  if (error.code.startsWith('AUTH_')) return 401;
  if (error.code === 'SESSION_FORBIDDEN' || error.code === 'FORBIDDEN_ROLE') return 403;
  if (error.code === 'NOT_FOUND' || error.code === 'SESSION_NOT_FOUND') return 404;
  if (error.code === 'SESSION_ENDED') return 410;
  if (error.code === 'FRAME_TOO_LARGE') return 413;
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

export function send(response: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

export async function readJson(request: IncomingMessage): Promise<unknown> {
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
