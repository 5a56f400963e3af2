import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { MAX_AI_PROMPT_CHARS, MAX_AI_SELECTION_CHARS } from '../../protocol';
import { ConfigError } from './config-error';
import { redisTlsOptions, type RedisTlsOptions } from './redis-tls';

export { ConfigError } from './config-error';

const integer = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value),
    z
      .number({ error: `must be an integer between ${min} and ${max}` })
      .int()
      .min(min)
      .max(max),
  );

const boolean = z.preprocess(
  (value) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value),
  z.boolean({ error: 'must be true or false' }),
);

/** The documented level names (DEBUG ... CRITICAL) and pino's own are both accepted. */
const documentedLevels = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
} as const;
export type LogLevel = (typeof documentedLevels)[keyof typeof documentedLevels] | 'silent' | 'trace';

const logLevel = z.preprocess(
  (value) => {
    if (typeof value !== 'string') return value;
    const upper = value.toUpperCase() as keyof typeof documentedLevels;
    if (upper in documentedLevels) return documentedLevels[upper];
    return value.toLowerCase() === 'warn' ? 'warn' : value.toLowerCase() === 'fatal' ? 'fatal' : value.toLowerCase();
  },
  z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
    error: 'must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL (or silent)',
  }),
);

const originList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : value,
  z.array(z.string().regex(/^(\*|https?:\/\/[^\s/]+)$/, 'must be "*" or origins like https://host:port')),
);

const hostList = z.preprocess(
  (value) =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean)
      : value,
  z.array(
    z.string().regex(/^([a-z0-9.-]+|\[[0-9a-f:.]+\])(:\d{1,5})?$/, 'must be host names like relay.example.com or relay.example.com:8443'),
  ),
);

/**
 * Every setting, named as its environment variable. A config file (`RELAY_CONFIG=path.json`)
 * uses the same names; the environment wins over the file, the file over the defaults.
 */
const ConfigSchema = z.strictObject({
  NODE_ENV: z.string().default('development'),
  WS_HOST: z.string().min(1).default('127.0.0.1'),
  WS_PORT: integer(0, 65535).default(8001),
  AUTH_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .transform((value) => value.split(',').map((node) => node.trim()))
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'must be a comma-separated list of host:port (Redis Cluster nodes)'),
        )
        .min(1),
    )
    .optional(),
  REDIS_CLUSTER_USERNAME: z.string().min(1).max(256).optional(),
  REDIS_CLUSTER_PASSWORD: z.string().min(1).max(4096).optional(),
  REDIS_CLUSTER_TLS: boolean.default(false),
  REDIS_TLS_CA_FILE: z.string().min(1).optional(),
  REDIS_TLS_CERT_FILE: z.string().min(1).optional(),
  REDIS_TLS_KEY_FILE: z.string().min(1).optional(),
  LOG_LEVEL: logLevel.default('info'),
  RELAY_ID: z
    .string()
    .regex(/^[\w.-]{1,64}$/, 'must be 1-64 letters, digits, . _ -')
    .optional(),
  WS_MAX_FRAME_BYTES: integer(256, 16 * 1024 * 1024).default(64 * 1024),
  WS_MAX_MESSAGES_PER_SECOND: integer(1, 1_000_000).default(200),
  WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: integer(1, 10_000_000).default(600),
  WS_MAX_CONNECTIONS: integer(1, 10_000_000).default(20_000),
  WS_MAX_BUFFERED_BYTES: integer(1024, 1024 * 1024 * 1024).default(1024 * 1024),
  WS_HEARTBEAT_INTERVAL_MS: integer(100, 3_600_000).default(25_000),
  SHUTDOWN_TIMEOUT_MS: integer(0, 600_000).default(10_000),
  DOCUMENT_HISTORY_SIZE: integer(1, 1_000_000).default(1000),
  SESSION_LOG_SIZE: integer(10, 1_000_000).default(1000),
  DOCUMENT_MAX_LENGTH: integer(1, 100_000_000).default(10_000_000),
  DOCUMENT_IDLE_TIMEOUT_MS: integer(1000, 7 * 24 * 3_600_000).default(600_000),
  DOCUMENT_HISTORY_MAX_BYTES: integer(1024, 1024 * 1024 * 1024).default(8 * 1024 * 1024),
  DOCUMENT_MAX_PER_SESSION: integer(1, 1_000_000).default(500),
  DOCUMENT_MAX_OPEN_PER_CONNECTION: integer(1, 1_000_000).default(500),
  DOCUMENT_MAX_PENDING_PIECE_BYTES: integer(1024, 4 * 1024 * 1024 * 1024).optional(),
  EDIT_MAX_TRANSFORM_COST: integer(1000, 1_000_000_000).default(1_000_000),
  EDIT_TRANSFORM_COST_PER_SECOND: integer(1000, 1_000_000_000).default(4_000_000),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  CORS_ORIGINS: originList.default([]),
  TRUST_PROXY: boolean.default(false),
  RELAY_STATE_DIR: z.string().min(1).optional(),
  WS_MAX_AUTH_FAILURES_PER_IP_PER_MINUTE: integer(1, 10_000_000).default(30),
  ALLOWED_ORIGINS: originList.default([]),
  ALLOWED_HOSTS: hostList.default([]),
  API_MAX_REQUESTS_PER_IP_PER_MINUTE: integer(1, 10_000_000).default(60),
  API_MAX_REQUESTS_PER_USER_PER_MINUTE: integer(1, 10_000_000).default(30),
  HTTP_REQUEST_TIMEOUT_MS: integer(1000, 600_000).default(10_000),
  JOIN_APPROVAL_TIMEOUT_MS: integer(1000, 3_600_000).default(120_000),
  DEBUG_MAX_BREAKPOINTS: integer(1, 100_000).default(1000),
  DEBUG_MAX_BREAKPOINT_BYTES: integer(1024, 64 * 1024 * 1024).default(256 * 1024),
  DEBUG_MAX_STATE_BYTES: integer(1024, 16 * 1024 * 1024).default(64 * 1024),
  DEBUG_IDLE_TIMEOUT_MS: integer(1000, 30 * 24 * 3_600_000).default(3_600_000),
  TUNNEL_SESSION_BYTES_PER_MINUTE: integer(64 * 1024, 1024 * 1024 * 1024 * 1024).default(256 * 1024 * 1024),
  TUNNEL_MAX_STREAMS_PER_CONNECTION: integer(1, 10_000).default(32),
  AI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  AI_API_KEY: z.string().min(1).max(4096).optional(),
  AI_MODEL: z.string().min(1).max(200).optional(),
  AI_SYSTEM_PROMPT: z.string().min(1).max(20_000).optional(),
  AI_MAX_CONCURRENT_PER_SESSION: integer(1, 1000).default(2),
  AI_MAX_CONCURRENT: integer(1, 100_000).default(16),
  AI_MAX_PROMPT_CHARS: integer(1, MAX_AI_PROMPT_CHARS + MAX_AI_SELECTION_CHARS).default(16_000),
  AI_MAX_ANSWER_CHARS: integer(100, 200_000).default(20_000),
  AI_TIMEOUT_MS: integer(100, 600_000).default(30_000),
  AI_VIEWERS_MAY_ASK: boolean.default(false),
  AI_LEASE_MS: integer(300, 600_000).default(10_000),
  METRICS_ENABLED: boolean.default(true),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').max(4096).optional(),
  STREAM_METRICS_MAXLEN: integer(100, 100_000_000).default(50_000),
  STREAM_FEEDBACK_MAXLEN: integer(100, 100_000_000).default(100_000),
  STREAM_MODEL_PERFORMANCE_MAXLEN: integer(100, 100_000_000).default(100_000),
  STREAM_PROCESSOR: boolean.default(true),
  STREAM_POLL_INTERVAL_MS: integer(10, 60_000).default(500),
  STREAM_CLAIM_IDLE_MS: integer(0, 3_600_000).default(30_000),
  METRICS_SAMPLE_INTERVAL_MS: integer(100, 3_600_000).default(5000),
  METRICS_WINDOW_MS: integer(1000, 86_400_000).default(60_000),
  METRICS_PUBLISH_INTERVAL_MS: integer(100, 60_000).default(1000),
  PROMETHEUS_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
});

export type RawConfig = z.infer<typeof ConfigSchema>;

export interface RelayConfig {
  production: boolean;
  host: string;
  port: number;
  /** Undefined when not configured; see `resolveAuthSecret`. */
  authSecret: string | undefined;
  redisUrl: string | undefined;
  /** Redis Cluster's nodes to start from (REDIS_CLUSTER_NODES); never set together with `redisUrl`. */
  redisClusterNodes: Array<{ host: string; port: number }> | undefined;
  /** The cluster nodes' AUTH (REDIS_CLUSTER_USERNAME, REDIS_CLUSTER_PASSWORD); one Redis has its own in REDIS_URL. */
  redisClusterAuth?: { username?: string; password: string };
  /**
   * TLS to Redis (a rediss:// REDIS_URL, or REDIS_CLUSTER_TLS): the CAs and client certificate,
   * read from REDIS_TLS_*_FILE at start-up. Unset: plain TCP.
   */
  redisTls?: RedisTlsOptions;
  logLevel: LogLevel;
  relayId: string | undefined;
  limits: {
    maxFrameBytes: number;
    maxMessagesPerSecond: number;
    maxConnectionsPerIpPerMinute: number;
    maxConnections: number;
    maxBufferedBytes: number;
  };
  heartbeatIntervalMs: number;
  shutdownTimeoutMs: number;
  /** Committed ops kept per document for transforming late ops; older bases get a resync. */
  documentHistorySize: number;
  /** Events kept per session (its log) for a reconnecting client to resume from. */
  sessionLogSize: number;
  /** Where clients reach the service (invite links carry it); from the request when unset. */
  publicUrl?: string;
  /** UTF-16 code units a shared document may hold. */
  documentMaxLength: number;
  /** A document nobody has open is dropped after this long. */
  documentIdleTimeoutMs: number;
  /** Bytes of committed ops (ids included) kept per document, besides the count. */
  documentHistoryMaxBytes: number;
  /** Documents one session may have at once. */
  documentMaxPerSession: number;
  /** Documents one connection may have open at once. */
  documentMaxOpenPerConnection: number;
  /** Bytes of initial text pieces (`more: true`) one connection may have pending, all documents together. */
  documentMaxPendingPieceBytes: number;
  /** Transform work one op or cursor may ask for (op components × revisions behind); more gets a resync. */
  editMaxTransformCost: number;
  /** Transform work one connection may do per second. */
  editTransformCostPerSecond: number;
  corsOrigins: string[];
  trustProxy: boolean;
  /** Where a development secret is kept between runs; see `resolveAuthSecret`. */
  stateDir: string;
  /** Refused tokens per client address per minute, counted apart from valid connections. */
  maxAuthFailuresPerIpPerMinute: number;
  /** Browser origins allowed to open a WebSocket; empty: any (editors send no Origin). */
  allowedOrigins: string[];
  /** Hosts (`Host` / X-Forwarded-Host) links may be made from when PUBLIC_URL is unset; empty: any (not in production). */
  allowedHosts: string[];
  /** Budgets of the REST calls that create or guess (sessions, invites, notifications). */
  api: { maxRequestsPerIpPerMinute: number; maxRequestsPerUserPerMinute: number };
  /** How long a client may take to send a whole HTTP request (headers and body). */
  httpRequestTimeoutMs: number;
  /** How long a join request of an approval invite waits for the host. */
  joinApprovalTimeoutMs: number;
  /** What the relay keeps of each session's debugging (relay/debugging). */
  debugging: DebuggingLimits;
  /** Shared servers (port forwarding): what the relay lets their streams cost. */
  tunnels: TunnelLimits;
  /** The AI model the relay asks for `ai.request` (undefined: AI_MODEL unset, `AI_NOT_CONFIGURED`), and the limits. */
  ai: AiSettings | undefined;
  /**
   * With Redis: how long a running answer outlives a relay that stopped refreshing it (apart from
   * `ai`: a relay without a model still ends the answers of dead relays).
   */
  aiLeaseMs: number;
  /** `GET /metrics` (relay/metrics): off, it is a 404 and the hot paths time nothing; `token` guards it when set. */
  metrics: { enabled: boolean; token: string | undefined };
  /** Where the dashboard's alerts come from (Prometheus's HTTP API); unset: the dashboard's own thresholds. */
  prometheusUrl: string | undefined;
  /** The metrics, feedback and model-performance streams and their data processor (relay/streams). */
  streams: StreamSettings;
}

export interface StreamSettings {
  /** About how many entries each stream keeps (XADD MAXLEN ~). */
  maxLen: { metrics: number; feedback: number; model_performance: number };
  /** Whether this relay runs a consumer of the streams (false: a `relay worker` does). */
  processor: boolean;
  /** How often the consumer reads the streams. */
  pollIntervalMs: number;
  /** How long an entry stays pending for a consumer before another one takes it over (XAUTOCLAIM). */
  claimIdleMs: number;
  /** How often each relay appends a sample of its figures to the metrics stream. */
  sampleIntervalMs: number;
  /** The rolling window the aggregates cover. */
  windowMs: number;
  /** How often the aggregates are computed and pushed to subscribed operators. */
  publishIntervalMs: number;
}

export interface TunnelLimits {
  /** Bytes of `tunnel.data` (raw, both directions) one session may send in a minute, counted by each relay. */
  sessionBytesPerMinute: number;
  /** Streams one guest connection may have open. */
  maxStreamsPerConnection: number;
}

export interface DebuggingLimits {
  /** Breakpoints one session may have. */
  maxBreakpoints: number;
  /** Bytes of one session's breakpoints (their JSON in UTF-8). */
  maxBreakpointBytes: number;
  /** Bytes of the host's stopped state (its JSON in UTF-8). */
  maxStateBytes: number;
  /** A session's debugging state is dropped after this long with nobody connected to it. */
  idleTimeoutMs: number;
}

/** The model (OpenAI-compatible Chat Completions) and the limits of AI answers. */
export interface AiSettings {
  baseUrl: string;
  /** Never logged, never sent to a client. */
  apiKey: string;
  model: string;
  systemPrompt: string | undefined;
  /** Answers running at once in one session (across relays with Redis). */
  maxConcurrentPerSession: number;
  /** Answers this relay serves at once. */
  maxConcurrent: number;
  /** Characters of prompt and selection together. */
  maxPromptChars: number;
  /** Characters of one answer; it is stopped there. */
  maxAnswerChars: number;
  /** Longest wait for the first token, and between tokens. */
  timeoutMs: number;
  viewersMayAsk: boolean;
}

/** Bytes one answer character may take in the last chunk's frame (UTF-8, JSON escapes), with room for the rest of the buffer. */
const ANSWER_BYTES_PER_CHAR = 8;

/** OpenAI's API, when AI_MODEL is set without AI_BASE_URL. */
export const DEFAULT_AI_BASE_URL = 'https://api.openai.com/v1';
/** Sent when AI_API_KEY is unset (a local server such as Ollama ignores the key; the client library needs one). */
const NO_AI_KEY = 'unset';

/** Room above the text's own bytes in the pending pieces: document ids and per-piece overhead. */
const PIECE_BYTES_ALLOWANCE = 65_536;

const settingNames = new Set(Object.keys(ConfigSchema.shape));

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`RELAY_CONFIG: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ConfigError(`RELAY_CONFIG: ${path} is not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`RELAY_CONFIG: ${path} must hold a JSON object of settings`);
  }
  return parsed as Record<string, unknown>;
}

/** Reads the configuration from the environment (and the optional file); throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const fromFile = env.RELAY_CONFIG ? readConfigFile(env.RELAY_CONFIG) : {};
  const merged: Record<string, unknown> = { ...fromFile };
  for (const name of settingNames) {
    const value = env[name];
    if (value !== undefined && value !== '') merged[name] = value;
  }
  const result = ConfigSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue.path[0] ?? 'config');
    const message = issue.code === 'unrecognized_keys' ? 'unknown setting in the config file' : issue.message;
    const got = issue.code === 'unrecognized_keys' ? undefined : merged[name];
    const shown =
      name === 'AUTH_SECRET' || name === 'AI_API_KEY' || name === 'METRICS_TOKEN' || name === 'REDIS_CLUSTER_PASSWORD' || got === undefined
        ? ''
        : ` (got ${JSON.stringify(got)})`;
    throw new ConfigError(`Invalid configuration: ${name} ${message}${shown}`);
  }
  const raw = result.data;
  // A document of the greatest allowed length must fit in the pieces a connection may have
  // pending (UTF-16: two bytes per code unit), or it could be created but never uploaded.
  const leastPieceBytes = 2 * raw.DOCUMENT_MAX_LENGTH + PIECE_BYTES_ALLOWANCE;
  if (raw.DOCUMENT_MAX_PENDING_PIECE_BYTES !== undefined && raw.DOCUMENT_MAX_PENDING_PIECE_BYTES < leastPieceBytes) {
    throw new ConfigError(
      `Invalid configuration: DOCUMENT_MAX_PENDING_PIECE_BYTES must be at least 2 × DOCUMENT_MAX_LENGTH + ${PIECE_BYTES_ALLOWANCE} ` +
        `(${leastPieceBytes}) (got ${raw.DOCUMENT_MAX_PENDING_PIECE_BYTES})`,
    );
  }
  if (raw.REDIS_URL !== undefined && raw.REDIS_CLUSTER_NODES !== undefined) {
    throw new ConfigError('Invalid configuration: set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (Redis Cluster), not both');
  }
  const auth = clusterAuth(raw);
  const redisTls = redisTlsOptions(raw);
  const ai = aiSettings(raw);
  return {
    ai,
    aiLeaseMs: raw.AI_LEASE_MS,
    metrics: { enabled: raw.METRICS_ENABLED, token: raw.METRICS_TOKEN },
    prometheusUrl: raw.PROMETHEUS_URL,
    streams: {
      maxLen: {
        metrics: raw.STREAM_METRICS_MAXLEN,
        feedback: raw.STREAM_FEEDBACK_MAXLEN,
        model_performance: raw.STREAM_MODEL_PERFORMANCE_MAXLEN,
      },
      processor: raw.STREAM_PROCESSOR,
      pollIntervalMs: raw.STREAM_POLL_INTERVAL_MS,
      claimIdleMs: raw.STREAM_CLAIM_IDLE_MS,
      sampleIntervalMs: raw.METRICS_SAMPLE_INTERVAL_MS,
      windowMs: raw.METRICS_WINDOW_MS,
      publishIntervalMs: raw.METRICS_PUBLISH_INTERVAL_MS,
    },
    production: raw.NODE_ENV === 'production',
    host: raw.WS_HOST,
    port: raw.WS_PORT,
    authSecret: raw.AUTH_SECRET,
    redisUrl: raw.REDIS_URL,
    redisClusterNodes: raw.REDIS_CLUSTER_NODES?.map(clusterNode),
    ...(auth && { redisClusterAuth: auth }),
    ...(redisTls && { redisTls }),
    logLevel: raw.LOG_LEVEL,
    relayId: raw.RELAY_ID,
    limits: {
      maxFrameBytes: raw.WS_MAX_FRAME_BYTES,
      maxMessagesPerSecond: raw.WS_MAX_MESSAGES_PER_SECOND,
      maxConnectionsPerIpPerMinute: raw.WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE,
      maxConnections: raw.WS_MAX_CONNECTIONS,
      maxBufferedBytes: raw.WS_MAX_BUFFERED_BYTES,
    },
    heartbeatIntervalMs: raw.WS_HEARTBEAT_INTERVAL_MS,
    shutdownTimeoutMs: raw.SHUTDOWN_TIMEOUT_MS,
    documentHistorySize: raw.DOCUMENT_HISTORY_SIZE,
    sessionLogSize: raw.SESSION_LOG_SIZE,
    ...(raw.PUBLIC_URL !== undefined && { publicUrl: raw.PUBLIC_URL }),
    documentMaxLength: raw.DOCUMENT_MAX_LENGTH,
    documentIdleTimeoutMs: raw.DOCUMENT_IDLE_TIMEOUT_MS,
    documentHistoryMaxBytes: raw.DOCUMENT_HISTORY_MAX_BYTES,
    documentMaxPerSession: raw.DOCUMENT_MAX_PER_SESSION,
    documentMaxOpenPerConnection: raw.DOCUMENT_MAX_OPEN_PER_CONNECTION,
    documentMaxPendingPieceBytes: raw.DOCUMENT_MAX_PENDING_PIECE_BYTES ?? leastPieceBytes,
    editMaxTransformCost: raw.EDIT_MAX_TRANSFORM_COST,
    editTransformCostPerSecond: raw.EDIT_TRANSFORM_COST_PER_SECOND,
    corsOrigins: raw.CORS_ORIGINS,
    trustProxy: raw.TRUST_PROXY,
    stateDir: raw.RELAY_STATE_DIR ?? defaultStateDir(env),
    maxAuthFailuresPerIpPerMinute: raw.WS_MAX_AUTH_FAILURES_PER_IP_PER_MINUTE,
    allowedOrigins: raw.ALLOWED_ORIGINS,
    allowedHosts: raw.ALLOWED_HOSTS,
    api: {
      maxRequestsPerIpPerMinute: raw.API_MAX_REQUESTS_PER_IP_PER_MINUTE,
      maxRequestsPerUserPerMinute: raw.API_MAX_REQUESTS_PER_USER_PER_MINUTE,
    },
    httpRequestTimeoutMs: raw.HTTP_REQUEST_TIMEOUT_MS,
    joinApprovalTimeoutMs: raw.JOIN_APPROVAL_TIMEOUT_MS,
    debugging: {
      maxBreakpoints: raw.DEBUG_MAX_BREAKPOINTS,
      maxBreakpointBytes: raw.DEBUG_MAX_BREAKPOINT_BYTES,
      maxStateBytes: raw.DEBUG_MAX_STATE_BYTES,
      idleTimeoutMs: raw.DEBUG_IDLE_TIMEOUT_MS,
    },
    tunnels: {
      sessionBytesPerMinute: raw.TUNNEL_SESSION_BYTES_PER_MINUTE,
      maxStreamsPerConnection: raw.TUNNEL_MAX_STREAMS_PER_CONNECTION,
    },
  };
}

/** The cluster nodes' AUTH: only with REDIS_CLUSTER_NODES, and a user only with a password. */
function clusterAuth(raw: RawConfig): { username?: string; password: string } | undefined {
  const { REDIS_CLUSTER_USERNAME: username, REDIS_CLUSTER_PASSWORD: password } = raw;
  if (password === undefined && username === undefined) return undefined;
  if (raw.REDIS_CLUSTER_NODES === undefined) {
    throw new ConfigError(
      'Invalid configuration: REDIS_CLUSTER_USERNAME and REDIS_CLUSTER_PASSWORD are for REDIS_CLUSTER_NODES ' +
        '(one Redis takes them in REDIS_URL: redis://user:password@host:6379)',
    );
  }
  if (password === undefined) throw new ConfigError('Invalid configuration: REDIS_CLUSTER_USERNAME needs REDIS_CLUSTER_PASSWORD');
  return { ...(username !== undefined && { username }), password };
}

/**
 * The AI settings: AI_MODEL turns AI answers on. AI_BASE_URL or AI_API_KEY without it is a
 * mistake (said at start-up rather than found as AI_NOT_CONFIGURED later), and so is OpenAI's own
 * API without a key.
 */
function aiSettings(raw: RawConfig): AiSettings | undefined {
  if (raw.AI_MODEL === undefined) {
    const orphan = (['AI_BASE_URL', 'AI_API_KEY', 'AI_SYSTEM_PROMPT'] as const).find((name) => raw[name] !== undefined);
    if (orphan) throw new ConfigError(`Invalid configuration: AI_MODEL is required when ${orphan} is set`);
    return undefined;
  }
  if (raw.AI_BASE_URL === undefined && raw.AI_API_KEY === undefined) {
    throw new ConfigError(`Invalid configuration: AI_API_KEY is required for ${DEFAULT_AI_BASE_URL} (set AI_BASE_URL for another server)`);
  }
  // The last chunk carries the whole answer: even escaped to the hilt it must fit a client's outbound buffer.
  if (raw.AI_MAX_ANSWER_CHARS * ANSWER_BYTES_PER_CHAR > raw.WS_MAX_BUFFERED_BYTES) {
    throw new ConfigError(
      `Invalid configuration: AI_MAX_ANSWER_CHARS must be at most WS_MAX_BUFFERED_BYTES / ${ANSWER_BYTES_PER_CHAR} ` +
        `(${Math.floor(raw.WS_MAX_BUFFERED_BYTES / ANSWER_BYTES_PER_CHAR)}): the last chunk carries the whole answer ` +
        `(got ${raw.AI_MAX_ANSWER_CHARS})`,
    );
  }
  return {
    baseUrl: raw.AI_BASE_URL ?? DEFAULT_AI_BASE_URL,
    apiKey: raw.AI_API_KEY ?? NO_AI_KEY,
    model: raw.AI_MODEL,
    systemPrompt: raw.AI_SYSTEM_PROMPT,
    maxConcurrentPerSession: raw.AI_MAX_CONCURRENT_PER_SESSION,
    maxConcurrent: raw.AI_MAX_CONCURRENT,
    maxPromptChars: raw.AI_MAX_PROMPT_CHARS,
    maxAnswerChars: raw.AI_MAX_ANSWER_CHARS,
    timeoutMs: raw.AI_TIMEOUT_MS,
    viewersMayAsk: raw.AI_VIEWERS_MAY_ASK,
  };
}

/** The settings table for `relay --help` and the README. */
export const settingDescriptions: Record<keyof RawConfig, string> = {
  NODE_ENV: '`production` makes a missing AUTH_SECRET (and a missing PUBLIC_URL or ALLOWED_HOSTS) an error and /ws/stats operator-only',
  WS_HOST: 'interface to listen on (default 127.0.0.1; 0.0.0.0 for all)',
  WS_PORT: 'port for WebSocket and REST (default 8001)',
  AUTH_SECRET: 'HS256 secret for tokens, at least 16 characters',
  REDIS_URL: 'redis:// URL (rediss:// for TLS); unset = embedded in-memory bus and storage',
  REDIS_CLUSTER_NODES:
    'Redis Cluster instead of one Redis: comma-separated host:port of some of its nodes ' +
    '(e.g. `redis-1:6379,redis-2:6379`); not together with REDIS_URL',
  REDIS_CLUSTER_USERNAME: 'the ACL user the relay authenticates as on every cluster node (default: the default user)',
  REDIS_CLUSTER_PASSWORD:
    'the password of the cluster nodes (their `requirepass`, or the ACL user’s); one Redis takes its password in REDIS_URL',
  REDIS_CLUSTER_TLS: 'connect to every cluster node with TLS (their `tls-port`); one Redis takes a rediss:// REDIS_URL (default false)',
  REDIS_TLS_CA_FILE:
    'PEM file of the CA(s) whose certificates the relay trusts for Redis, instead of the system’s; only with TLS (a rediss:// REDIS_URL ' +
    'or REDIS_CLUSTER_TLS=true)',
  REDIS_TLS_CERT_FILE:
    'PEM file of the relay’s client certificate for Redis servers that check clients (`tls-auth-clients yes`); with REDIS_TLS_KEY_FILE',
  REDIS_TLS_KEY_FILE: 'PEM file of that certificate’s private key (unencrypted); with REDIS_TLS_CERT_FILE',
  LOG_LEVEL: 'DEBUG, INFO, WARNING, ERROR or CRITICAL (default INFO)',
  RELAY_ID: 'name of this relay in logs and stats (default: generated)',
  WS_MAX_FRAME_BYTES: 'largest inbound frame (default 65536)',
  WS_MAX_MESSAGES_PER_SECOND: 'inbound messages per connection per second (default 200)',
  WS_MAX_CONNECTIONS_PER_IP_PER_MINUTE: 'new connections per client address per minute (default 600)',
  WS_MAX_CONNECTIONS: 'connections per relay (default 20000)',
  WS_MAX_BUFFERED_BYTES: 'outbound buffer per connection before it is closed as a slow consumer (default 1048576)',
  WS_HEARTBEAT_INTERVAL_MS: 'ping interval; a peer silent for two intervals is closed (default 25000)',
  SHUTDOWN_TIMEOUT_MS: 'how long a graceful shutdown waits for connections to drain (default 10000)',
  PUBLIC_URL:
    'the URL clients reach this service at (behind Nginx: its https:// URL); invite links carry it. Default: the Host of each request',
  DOCUMENT_HISTORY_SIZE: 'committed ops kept per shared document; an op based on an older revision gets a resync (default 1000)',
  SESSION_LOG_SIZE:
    'events kept per session (chat, joins, AI answers...) for a client that reconnects to resume from; ' +
    'one that missed more is told it could not resume (default 1000)',
  DOCUMENT_MAX_LENGTH:
    'the most UTF-16 code units a shared document may hold; a bigger open or edit gets DOCUMENT_TOO_LARGE (default 10000000)',
  DOCUMENT_IDLE_TIMEOUT_MS: 'a shared document that nobody has open is dropped after this long (default 600000, 10 minutes)',
  DOCUMENT_HISTORY_MAX_BYTES:
    'bytes of committed ops (with their ids) kept per shared document, besides DOCUMENT_HISTORY_SIZE; older ones are dropped first ' +
    '(default 8388608)',
  DOCUMENT_MAX_PER_SESSION: 'shared documents one session may have; creating one more gets TOO_MANY_DOCUMENTS (default 500)',
  DOCUMENT_MAX_OPEN_PER_CONNECTION: 'shared documents one connection may have open; opening one more gets TOO_MANY_DOCUMENTS (default 500)',
  DOCUMENT_MAX_PENDING_PIECE_BYTES:
    'bytes of initial text pieces (`more: true`, ids and per-piece overhead included) one connection may have pending; more gets ' +
    'DOCUMENT_TOO_LARGE (default and least: 2 × DOCUMENT_MAX_LENGTH + 65536)',
  EDIT_MAX_TRANSFORM_COST:
    'transform work one edit or cursor may ask for (op components × revisions behind, plus those revisions’ components); a costlier ' +
    'edit gets a resync (default 1000000, about 25 ms of one core)',
  EDIT_TRANSFORM_COST_PER_SECOND:
    'transform work one connection may do per second (same unit); past it edits get a resync, cursors TRANSFORM_TOO_COSTLY (default ' +
    '4000000)',
  CORS_ORIGINS: 'comma-separated origins allowed to call the REST API (default none)',
  TRUST_PROXY: 'take the client address from X-Forwarded-For (behind Nginx) (default false)',
  RELAY_STATE_DIR: 'where a generated development secret is kept (default ~/.local/state/tandem-relay)',
  WS_MAX_AUTH_FAILURES_PER_IP_PER_MINUTE:
    'refused tokens per client address per minute, counted apart from valid connections; then 429 LOGIN_RATE_LIMITED (default 30)',
  ALLOWED_ORIGINS:
    'comma-separated browser origins allowed to open a WebSocket; an upgrade with another Origin gets 403 ORIGIN_FORBIDDEN, one ' +
    'without (editors, CLIs) is allowed (default: any)',
  ALLOWED_HOSTS:
    'comma-separated hosts (host or host:port) invite links may name when PUBLIC_URL is unset; in production PUBLIC_URL or this is ' +
    'required (default: any, development only)',
  API_MAX_REQUESTS_PER_IP_PER_MINUTE:
    'POST /api/sessions, /api/invites/redeem and /api/notifications per client address per minute; then 429 API_RATE_LIMITED (default 60)',
  API_MAX_REQUESTS_PER_USER_PER_MINUTE: 'POST /api/sessions and /api/notifications per user per minute (default 30)',
  HTTP_REQUEST_TIMEOUT_MS:
    'how long a client may take to send a whole HTTP request, headers and body; then 408 and the socket is closed (default 10000)',
  JOIN_APPROVAL_TIMEOUT_MS:
    'how long a join request of an approval invite waits for the host; then JOIN_REQUEST_EXPIRED (default 120000, 2 minutes)',
  DEBUG_MAX_BREAKPOINTS: 'breakpoints one session may have; adding one more gets TOO_MANY_BREAKPOINTS (default 1000)',
  DEBUG_MAX_BREAKPOINT_BYTES:
    'bytes of one session’s breakpoints (their JSON in UTF-8); a change past it gets BREAKPOINTS_TOO_LARGE (default 262144)',
  DEBUG_MAX_STATE_BYTES:
    'bytes of the host’s stopped state (call stack and variables, its JSON in UTF-8); more gets DEBUG_STATE_TOO_LARGE (default 65536)',
  DEBUG_IDLE_TIMEOUT_MS:
    'a session’s breakpoints and stopped state are dropped after this long with nobody connected to it (default 3600000, 1 hour)',
  TUNNEL_SESSION_BYTES_PER_MINUTE:
    'bytes of shared-server traffic (`tunnel.data`, both directions) one session may send per minute, counted by each relay; more gets ' +
    'TUNNEL_BYTES_EXCEEDED and the stream is closed (default 268435456, 256 MiB)',
  TUNNEL_MAX_STREAMS_PER_CONNECTION:
    'shared-server streams (TCP connections) one guest connection may have open at once; more gets TUNNEL_TOO_MANY_STREAMS (default 32)',
  AI_BASE_URL:
    'an OpenAI-compatible Chat Completions API the relay asks for `ai.request` (Ollama: http://localhost:11434/v1) (default ' +
    'https://api.openai.com/v1)',
  AI_API_KEY: 'the key for AI_BASE_URL; stays on the relay, never logged (required for OpenAI; a local server takes any)',
  AI_MODEL: 'the model to ask (e.g. gpt-4o-mini, llama3.2); unset = no AI answers (`AI_NOT_CONFIGURED`)',
  AI_SYSTEM_PROMPT: 'the system message before every question (default: a short one for pair programming)',
  AI_MAX_CONCURRENT_PER_SESSION: 'answers running at once in one session, across relays; more gets AI_TOO_MANY_REQUESTS (default 2)',
  AI_MAX_CONCURRENT: 'answers this relay serves at once; more gets AI_TOO_MANY_REQUESTS (default 16)',
  AI_MAX_PROMPT_CHARS: 'characters of a question’s prompt and selection together; more gets AI_PROMPT_TOO_LARGE (default 16000)',
  AI_MAX_ANSWER_CHARS:
    'characters of one answer; it is stopped there with AI_ANSWER_TOO_LARGE; at most WS_MAX_BUFFERED_BYTES / 8, since the last chunk ' +
    'carries the whole answer (default 20000)',
  AI_TIMEOUT_MS: 'longest wait for the model’s first token, and between two of its chunks; then AI_TIMEOUT (default 30000)',
  AI_VIEWERS_MAY_ASK: 'whether viewers may ask the AI model (default false: AI_FORBIDDEN)',
  AI_LEASE_MS:
    'with Redis: a relay that dies in the middle of an answer has it ended (AI_RELAY_LOST) by another relay within about 1.5 × this ' +
    '(default 10000)',
  METRICS_ENABLED:
    'serve GET /metrics (Prometheus text format) and time the hot paths for it; false: /metrics is a 404 and nothing is timed ' +
    '(default true)',
  METRICS_TOKEN:
    'when set, GET /metrics needs Authorization: Bearer <this> (at least 16 characters); unset, /metrics is open to whoever reaches ' +
    'the relay’s port (nginx does not pass it on) (default unset)',
  PROMETHEUS_URL:
    'Prometheus’s base URL (e.g. http://127.0.0.1:9090): the dashboard’s alerts panel shows its alert rules’ state (read by the ' +
    'relay); unset, the dashboard computes the same thresholds from the live aggregates (default unset)',
  STREAM_METRICS_MAXLEN: 'about how many entries the metrics stream keeps (XADD MAXLEN ~; Redis may keep up to 100 more) (default 50000)',
  STREAM_FEEDBACK_MAXLEN: 'about how many entries the feedback stream keeps (default 100000)',
  STREAM_MODEL_PERFORMANCE_MAXLEN: 'about how many entries the model-performance stream keeps, one per AI answer (default 100000)',
  STREAM_PROCESSOR:
    'whether this relay runs a consumer of the streams (the data processor); false when `relay worker` processes run instead ' +
    '(default true)',
  STREAM_POLL_INTERVAL_MS: 'how often the data processor reads the streams (default 500)',
  STREAM_CLAIM_IDLE_MS:
    'how long an entry may stay unacknowledged by a consumer (one that died) before another takes it over (XAUTOCLAIM) (default ' +
    '30000)',
  METRICS_SAMPLE_INTERVAL_MS: 'how often each relay appends a sample of its figures to the metrics stream (default 5000)',
  METRICS_WINDOW_MS: 'the rolling window of the aggregates (GET /api/metrics, operator.metrics) (default 60000)',
  METRICS_PUBLISH_INTERVAL_MS: 'how often the aggregates are computed and pushed to subscribed operators (default 1000)',
};

/**
 * In production, links must not be built from whatever `Host` a request names (an attacker's
 * request would get invite links that point to the attacker): PUBLIC_URL or ALLOWED_HOSTS is
 * required. Checked at start-up, beside the AUTH_SECRET check.
 */
export function assertLinksConfigured(config: RelayConfig): void {
  if (config.production && config.publicUrl === undefined && config.allowedHosts.length === 0) {
    throw new ConfigError('Invalid configuration: PUBLIC_URL (or ALLOWED_HOSTS) is required when NODE_ENV=production');
  }
}

function defaultStateDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'tandem-relay');
}

/** `host:port` (host may be a bracketed IPv6 address) as ioredis takes a cluster node. */
function clusterNode(node: string): { host: string; port: number } {
  const colon = node.lastIndexOf(':');
  const host = node.slice(0, colon);
  const port = Number(node.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(`Invalid configuration: REDIS_CLUSTER_NODES has a port out of range (got ${JSON.stringify(node)})`);
  }
  return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
}
