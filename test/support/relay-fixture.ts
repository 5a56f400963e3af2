import { once } from 'node:events';
import { type IncomingHttpHeaders, request as httpRequestRaw } from 'node:http';
import WebSocket from 'ws';
import { type ClientEventType, type ClientPayload, decodeServerFrame, type Role, type ServerFrame } from '../../protocol';
import type { ModelPerformanceSink } from '../../relay/ai/model-performance';
import { mintToken, type MintOptions } from '../../relay/auth/tokens';
import { loadConfig, type RelayConfig } from '../../relay/config/config';
import { createLogger } from '../../relay/log';
import { type Relay, startRelay } from '../../relay/relay';

export const TEST_SECRET = 'test-secret-0123456789abcdef';

export interface TestRelayOptions {
  /** Receives the relay's JSON log lines; the level is then debug unless LOG_LEVEL says otherwise. */
  logSink?: LogSink;
  /** Receives the relay's model-performance records (AI answers). */
  modelPerformance?: ModelPerformanceSink;
}

/** A relay in this process on a free loopback port; settings as environment variable names. */
export async function startTestRelay(settings: Record<string, string> = {}, options: TestRelayOptions = {}): Promise<TestRelay> {
  const defaultLevel = options.logSink ? 'debug' : 'silent';
  const config: RelayConfig = loadConfig({
    WS_HOST: '127.0.0.1',
    WS_PORT: '0',
    AUTH_SECRET: TEST_SECRET,
    LOG_LEVEL: defaultLevel,
    ...settings,
  });
  const relay = await startRelay({
    config,
    secret: TEST_SECRET,
    logger: createLogger(config.logLevel, options.logSink),
    ...(options.modelPerformance && { modelPerformance: options.modelPerformance }),
  });
  return new TestRelay(relay, config);
}

export class TestRelay {
  private readonly opened: TestClient[] = [];

  constructor(
    readonly relay: Relay,
    readonly config: RelayConfig,
  ) {}

  get url(): string {
    return this.relay.url;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.relay.port}`;
  }

  /** Every client `connect` has opened, closed ones included, until `stop()` closes them. */
  get clients(): readonly TestClient[] {
    return this.opened;
  }

  token(options: Partial<MintOptions> & { user: string }): string {
    return mintToken(TEST_SECRET, { sessions: ['s1'], role: 'editor' as Role, ttl: '5m', ...options });
  }

  /** Opens a raw `ws` socket and waits for the relay's `connect` event; `stop()` closes it. */
  async connect(user: string, options: Partial<MintOptions> & { query?: string } = {}): Promise<TestClient> {
    const token = this.token({ user, ...options });
    const client = new TestClient(new WebSocket(`${this.url}?token=${token}${options.query ?? ''}`));
    await client.next('connect');
    this.opened.push(client);
    return client;
  }

  /**
   * Begins the relay's own graceful stop and resolves once it is draining: a client that stopped
   * reading (it never answers the close) keeps it draining until SHUTDOWN_TIMEOUT_MS. `stopped`
   * settles with the relay's `stop()`.
   */
  async beginDrain(): Promise<{ stopped: Promise<void> }> {
    const watcher = await this.connect('watcher');
    const stuck = await this.connect('stuck');
    stuck.socket.pause();
    const stopped = this.relay.stop();
    await watcher.next('disconnect');
    return { stopped };
  }

  /**
   * Closes the clients `connect` opened (cutting off those that stopped reading: they would never
   * answer the close), then stops the relay. A test of the relay's own graceful stop, with its
   * clients still connected, calls `relay.stop()` on the `relay` property instead.
   */
  async stop(): Promise<void> {
    for (const client of this.opened.splice(0)) {
      if (client.socket.isPaused) client.socket.terminate();
      else client.close();
    }
    await this.relay.stop();
  }
}

/** A raw socket that records every frame the relay sends, for assertions. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Called after every recorded frame, and when the socket closes. */
  private readonly waiters = new Set<() => void>();

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) throw new Error('relay sent a binary frame');
      const decoded = decodeServerFrame(data.toString());
      if (!decoded.ok) throw new Error(`relay sent an invalid frame: ${decoded.error.message}: ${data.toString()}`);
      this.frames.push(decoded.frame);
      for (const waiter of this.waiters) waiter();
    });
    this.closed = once(socket, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
    socket.on('close', () => {
      for (const waiter of this.waiters) waiter();
    });
  }

  /** The first frame (already received or future) of this type that matches, with a timeout. */
  next<E extends ServerFrame['event_type']>(
    eventType: E,
    match: (frame: Extract<ServerFrame, { event_type: E }>) => boolean = () => true,
    timeoutMs = 3000,
  ): Promise<Extract<ServerFrame, { event_type: E }>> {
    type F = Extract<ServerFrame, { event_type: E }>;
    const test = (f: ServerFrame): f is F => f.event_type === eventType && match(f as F);
    return this.waitFor(() => this.frames.find(test), `a ${eventType} frame`, timeoutMs);
  }

  /** Resolves once `condition()` holds, re-checking it after every frame the client records. */
  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    await this.waitFor(() => condition() || undefined, what, timeoutMs);
  }

  of<E extends ServerFrame['event_type']>(eventType: E): Array<Extract<ServerFrame, { event_type: E }>> {
    return this.frames.filter((f): f is Extract<ServerFrame, { event_type: E }> => f.event_type === eventType);
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  close(): void {
    this.socket.close();
  }

  /**
   * The first value `found()` returns other than undefined, checked now and after every frame;
   * rejects, naming `what`, if the connection closes first or after `timeoutMs`.
   */
  private waitFor<T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      const check = () => {
        const value = found();
        if (value !== undefined) {
          stop();
          resolve(value);
        } else if (this.socket.readyState === WebSocket.CLOSED) {
          stop();
          reject(new Error(`the connection closed while waiting for ${what}`));
        }
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }
}

// --- Helpers for the gateway and REST tests (test/relay/gateway, test/relay/http) ---

/** A pino destination that keeps the relay's JSON log lines, to check what the relay writes. */
export class LogSink {
  readonly lines: string[] = [];

  write(line: string): void {
    this.lines.push(line);
  }

  get text(): string {
    return this.lines.join('');
  }

  /** The parsed log records, optionally only those with this `msg`. */
  records(message?: string): Array<Record<string, unknown>> {
    const records = this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    return message === undefined ? records : records.filter((record) => record.msg === message);
  }
}

/**
 * Opens a raw socket at `url` with `ws` client options (headers, `autoPong`, ...) and waits for
 * the relay's `connect` event. Fails with the HTTP status if the upgrade is refused.
 */
export async function openTestClient(url: string, options: WebSocket.ClientOptions = {}, timeoutMs = 3000): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, options));
  // A refused upgrade rejects `closed` through `once`; the error below is the one to report.
  client.closed.catch(() => undefined);
  const refused = new Promise<never>((_, reject) => {
    client.socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`upgrade refused with HTTP ${response.statusCode}`)),
    );
    client.socket.once('error', reject);
  });
  refused.catch(() => undefined);
  await Promise.race([client.next('connect', () => true, timeoutMs), refused]);
  return client;
}

/** A refused upgrade: the HTTP status and the JSON body (`{code, message}`). */
export interface UpgradeRefusal {
  status: number;
  contentType: string | undefined;
  body: { code?: unknown; message?: unknown };
}

/** Attempts a WebSocket upgrade the relay must refuse; rejects if a socket opens instead. */
export function refusedUpgrade(url: string, options: WebSocket.ClientOptions = {}, timeoutMs = 3000): Promise<UpgradeRefusal> {
  const socket = new WebSocket(url, options);
  return new Promise<UpgradeRefusal>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no answer to the upgrade within ${timeoutMs} ms`)), timeoutMs);
    const finish = (error: Error | undefined, refusal?: UpgradeRefusal) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      if (socket.readyState === WebSocket.OPEN) socket.terminate();
      if (error) reject(error);
      else resolve(refusal!);
    };
    socket.once('open', () => finish(new Error('the upgrade was accepted: a socket opened')));
    socket.once('error', (error) => finish(error));
    socket.once('unexpected-response', (request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.once('end', () => {
        request.destroy();
        try {
          const body = JSON.parse(text) as UpgradeRefusal['body'];
          finish(undefined, { status: response.statusCode ?? 0, contentType: response.headers['content-type'], body });
        } catch {
          finish(new Error(`the refusal body is not JSON: ${text}`));
        }
      });
    });
  });
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** One HTTP request to the relay; the body is sent as is. */
export function httpRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
  timeoutMs = 3000,
): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    const headers = { ...init.headers, ...(init.body !== undefined && { 'Content-Length': String(Buffer.byteLength(init.body)) }) };
    const req = httpRequestRaw(url, { method: init.method ?? 'GET', headers, timeout: timeoutMs }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
      response.once('error', reject);
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(init.body);
  });
}

/** The JSON body of a response (typed by the caller: these are assertions' inputs, not trusted). */
export function jsonBody<T = Record<string, unknown>>(response: HttpResponse): T {
  return JSON.parse(response.text) as T;
}

/** The body of `GET /ws/stats`. */
export interface WsStats {
  relay_id: string;
  connections: number;
  sessions: number;
  uptime_s: number;
  connections_total: number;
  connections_refused: number;
  messages_in: Record<string, number>;
  messages_out: Record<string, number>;
  errors: Record<string, number>;
  document_repairs: { relay: number; editor: number };
}

export async function fetchStats(relay: TestRelay): Promise<WsStats> {
  const response = await httpRequest(`${relay.httpUrl}/ws/stats`);
  if (response.status !== 200) throw new Error(`GET /ws/stats answered ${response.status}: ${response.text}`);
  return jsonBody<WsStats>(response);
}

/** `POST /api/notifications` with `token` as the bearer (none if undefined); a string body is sent as is. */
export function postNotification(relay: TestRelay, token: string | undefined, body: unknown): Promise<HttpResponse> {
  return httpRequest(`${relay.httpUrl}/api/notifications`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A client frame in the protocol's envelope; `extra` may carry (spoofed) `session_id` / `user_id`. */
export function clientFrame<E extends ClientEventType>(
  eventType: E,
  payload: ClientPayload<E>,
  extra: { session_id?: string; user_id?: string } = {},
) {
  return { event_type: eventType, payload, timestamp: new Date().toISOString(), ...extra };
}

/** Valid payloads for each client event, for tests about routing rather than content. */
export const samplePayloads = {
  chat: (content = 'hello', extra: Partial<ClientPayload<'chat.message'>> = {}): ClientPayload<'chat.message'> => ({ content, ...extra }),
  edit: (extra: Partial<ClientPayload<'collaboration.edit'>> = {}): ClientPayload<'collaboration.edit'> => ({
    document: 'src/main.ts',
    rev: 0,
    client_id: 'editor-1',
    seq: 0,
    op: ['x'],
    ...extra,
  }),
  open: (extra: Partial<ClientPayload<'collaboration.open'>> = {}): ClientPayload<'collaboration.open'> => ({
    document: 'src/main.ts',
    ...extra,
  }),
  cursor: (extra: Partial<ClientPayload<'collaboration.cursor'>> = {}): ClientPayload<'collaboration.cursor'> => ({
    document: 'src/main.ts',
    selections: [{ anchor: 1, head: 1 }],
    ...extra,
  }),
  breakpoint: (extra: Partial<ClientPayload<'debugging.breakpoint'>> = {}): ClientPayload<'debugging.breakpoint'> => ({
    action: 'add',
    breakpoint: { id: 'bp-1', document: 'src/main.ts', line: 3, enabled: true },
    ...extra,
  }),
};

/** `client` opens (a host or editor: creates if new) `document` and waits for its snapshot. */
/**
 * A snapshot without its epoch (a random id, checked to be there), for comparing whole snapshots.
 */
export function withoutEpoch<T extends { epoch?: string }>(snapshot: T): Omit<T, 'epoch'> {
  const { epoch, ...rest } = snapshot;
  if (typeof epoch !== 'string' || epoch.length === 0) throw new Error(`the snapshot has no epoch: ${JSON.stringify(snapshot)}`);
  return rest;
}

export async function openDocument(client: TestClient, document = 'src/main.ts', text?: string) {
  const before = client.of('collaboration.snapshot').length;
  const errors = client.of('error').length;
  client.send(clientFrame('collaboration.open', { document, ...(text !== undefined && { text }) }));
  await client.until(
    () => client.of('collaboration.snapshot').length > before || client.of('error').length > errors,
    `a snapshot of ${document}`,
  );
  const snapshot = client.of('collaboration.snapshot')[before];
  if (!snapshot) throw new Error(`opening ${document} failed: ${JSON.stringify(client.of('error').at(-1)?.payload)}`);
  return snapshot.payload;
}
