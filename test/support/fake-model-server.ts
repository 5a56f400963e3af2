/**
 * A local HTTP server of ours that speaks the OpenAI Chat Completions wire format
 * (`POST /v1/chat/completions` with `stream: true`: server-sent events `data: {chunk}\n\n`, each
 * with `choices[0].delta.content`, then a `finish_reason` chunk, a usage chunk and `data: [DONE]`),
 * scriptable per request: a normal or slow stream, a hold until the test releases it, a stream
 * cut mid-way (socket destroyed) or stalled, an error status, or no answer at all. The relay talks
 * to it through the official `openai` client, as it would to OpenAI, Ollama or vLLM.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { sleep } from './wait';

export interface ModelScript {
  /** An HTTP status other than 200: an OpenAI-style error body, nothing streamed. */
  status?: number;
  /** Never answers, not even with headers. */
  hang?: boolean;
  /** The deltas to stream, in order (default: `['Hello', ', world', '!']`). */
  deltas?: string[];
  /** Pause before each delta: a slow model. */
  delayMs?: number;
  /** After this many deltas, wait until `release()` (or until the relay hangs up). */
  holdAfter?: number;
  /** After the deltas: finish properly (`done`), destroy the socket (`cut`), or go silent with the connection open (`stall`). */
  end?: 'done' | 'cut' | 'stall';
  /** Send the usage chunk (`stream_options.include_usage`); default true. */
  usage?: boolean;
}

/** What the server saw of one request. */
export interface ModelRequest {
  body: { model?: string; messages?: Array<{ role: string; content: string }>; stream?: boolean; stream_options?: unknown };
  authorization: string | undefined;
  /** The relay closed the connection before the answer ended (a cancel or a timeout). */
  aborted: boolean;
}

export const PROMPT_TOKENS = 42;

export class FakeModelServer {
  readonly requests: ModelRequest[] = [];
  /** Used when the queue is empty. */
  defaultScript: ModelScript = {};
  private readonly queue: ModelScript[] = [];
  private readonly sockets = new Set<Socket>();
  private gate = deferred();
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<FakeModelServer> {
    const server = createServer();
    const fake = new FakeModelServer(server);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => void fake.handle(request, response));
    server.on('connection', (socket: Socket) => {
      fake.sockets.add(socket);
      socket.once('close', () => fake.sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  /** What AI_BASE_URL is set to. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  /** The script of the next request (then the next, ...). */
  enqueue(...scripts: ModelScript[]): void {
    this.queue.push(...scripts);
  }

  /** Lets every held stream go on (`holdAfter`). */
  release(): void {
    this.gate.resolve();
    this.gate = deferred();
  }

  /** Resolves once `count` requests have arrived. */
  async waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => this.requests.length >= count, `${count} model requests`, timeoutMs);
  }

  /** Resolves once the relay has hung up on request `n` (a cancel or timeout reached the model's server). */
  async waitForAbort(n: number, timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => this.requests[n]?.aborted === true, `the relay to abort model request ${n}`, timeoutMs);
  }

  async close(): Promise<void> {
    this.release();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const seen: ModelRequest = {
      body: JSON.parse(Buffer.concat(chunks).toString() || '{}') as ModelRequest['body'],
      authorization: request.headers.authorization,
      aborted: false,
    };
    this.requests.push(seen);
    let ended = false;
    response.once('close', () => {
      if (!ended) seen.aborted = true;
      this.notify();
    });
    this.notify();
    const script = this.queue.shift() ?? this.defaultScript;
    if (request.url !== '/v1/chat/completions' || request.method !== 'POST') return this.error(response, 404, 'not found');
    if (script.hang) return;
    if (script.status && script.status !== 200) {
      ended = true;
      return this.error(response, script.status, `scripted ${script.status}`);
    }
    response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    const model = seen.body.model ?? 'fake';
    const deltas = script.deltas ?? ['Hello', ', world', '!'];
    const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null) => ({
      id: 'chatcmpl-fake',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
    event(chunk({ role: 'assistant', content: '' }, null));
    for (const [i, delta] of deltas.entries()) {
      if (script.holdAfter === i) await Promise.race([this.gate.promise, once(response, 'close')]);
      if (script.delayMs) await sleep(script.delayMs);
      if (response.destroyed) return;
      event(chunk({ content: delta }, null));
    }
    if (script.holdAfter === deltas.length) await Promise.race([this.gate.promise, once(response, 'close')]);
    if (response.destroyed) return;
    if (script.end === 'cut') {
      // Once what was written has reached the socket, as a connection lost in the middle of an answer.
      await new Promise<void>((resolve) => response.write(': cut\n\n', () => resolve()));
      return void response.socket?.destroy();
    }
    if (script.end === 'stall') return;
    event(chunk({}, 'stop'));
    if (script.usage !== false) {
      event({
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [],
        usage: { prompt_tokens: PROMPT_TOKENS, completion_tokens: deltas.length, total_tokens: PROMPT_TOKENS + deltas.length },
      });
    }
    response.write('data: [DONE]\n\n');
    ended = true;
    response.end();
  }

  private error(response: ServerResponse, status: number, message: string): void {
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify({ error: { message, type: 'fake_error', code: String(status) } }));
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  private waitFor(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
