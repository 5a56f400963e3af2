import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { RedisTlsOptions } from '../config/redis-tls';
import type { Logger } from '../log';
import { GuardedConnector } from './guarded-connector';
import { CLOSED_UNANSWERED, connectionResetHint, describeTlsFailure, probe } from './tls-failure';

/**
 * The relay's Redis "pool": exactly two connections per relay, whatever the number of sessions.
 *
 * - `command`: every ordinary command of the broker, the presence store and any other Redis-backed
 *   store. Redis runs one client's commands in order and ioredis pipelines them on one socket,
 *   so one connection carries a relay's load; more would only reorder its writes.
 * - `subscriber`: in (sharded) subscriber mode, it carries every channel this relay listens to.
 *   A connection in subscriber mode cannot run other commands, hence the second one.
 *
 * The users (broker, presence store) `acquire` in their constructors and `release` in their
 * `close`; the last release closes both connections, so the composition root needs no ordering.
 *
 * On Redis Cluster (`openCluster`) each is an ioredis `Cluster`: the command one keeps a socket per
 * master and sends each command to the master of its keys' slot; the subscriber one has a sharded
 * subscriber per master (ioredis's `shardedSubscribers`), so that SSUBSCRIBE reaches the shard
 * that publishes the channel. The stores put every key and channel of one session in one hash slot.
 */

/** One Redis, or a Redis Cluster: the stores use the commands both have. */
export type RedisClient = Redis | Cluster;

/** A node of a Redis Cluster to start from (REDIS_CLUSTER_NODES). */
export interface RedisClusterNode {
  host: string;
  port: number;
}
export interface RedisConnectionOptions {
  /** Names the connections in CLIENT LIST as `<name>:cmd` and `<name>:sub` (the relay id). */
  name: string;
  /** How long `open` waits for both connections, and each later TCP connect (default 10 s). */
  connectTimeoutMs?: number;
  /** A command without a reply after this long fails, and a silent socket is dropped (default 5 s). */
  commandTimeoutMs?: number;
  /** The reconnect backoff's ceiling (default 2 s). */
  maxReconnectDelayMs?: number;
  log?: Pick<Logger, 'info' | 'warn'>;
  /**
   * TLS: the CAs to trust and the client certificate (PEM). One Redis uses TLS with a rediss://
   * URL (these are ignored with redis://); a cluster uses it on every node when this is set.
   */
  tls?: RedisTlsOptions;
}

type Role = 'cmd' | 'sub';

/** Redis's answers to a missing or wrong password (AUTH, or a command before it). */
const AUTH_REFUSED = /NOAUTH|WRONGPASS|invalid password|invalid username-password/i;

export class RedisConnections {
  private users = 0;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly command: RedisClient,
    readonly subscriber: RedisClient,
    /** Whether these are Redis Cluster clients. */
    readonly cluster: boolean,
  ) {}

  /**
   * Connects both and waits until they are ready, so a wrong or unreachable REDIS_URL stops the
   * relay at start-up with one clear line instead of failing its first requests.
   */
  static async open(url: string, options: RedisConnectionOptions): Promise<RedisConnections> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    const name = options.name.replace(/[^\w.:-]/g, '_');
    const common: RedisOptions = {
      // Created idle so that the listeners below are in place before the first connect.
      lazyConnect: true,
      Connector: GuardedConnector,
      connectTimeout: connectTimeoutMs,
      // Reconnect forever, backing off exponentially up to `maxDelay`; the jitter keeps N relays
      // from hitting a restarted Redis in lockstep.
      retryStrategy: (attempt) => Math.round(Math.min(maxDelay, 50 * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() / 2)),
    };
    // The URL's scheme turns TLS on or off; the files only say which CAs and client certificate.
    const tls = new URL(url).protocol === 'rediss:' ? options.tls : undefined;
    if (tls) common.tls = { ...tls };
    const command = new Redis(url, {
      ...common,
      connectionName: `${name}:cmd`,
      // Fail fast while disconnected: a publish that waited in an offline queue would reach the
      // session seconds late, after the client gave up on it, and the queue would grow without
      // bound during an outage. The relay answers with an error instead; clients resend.
      enableOfflineQueue: false,
      // A command in flight when the connection drops is rejected at once, never resent: its
      // script may have run already, and running a publish twice would deliver it twice.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: commandTimeoutMs,
      // A half-open socket (a dead peer that never sent a FIN) would otherwise swallow commands
      // until TCP gives up, minutes later: silence while a reply is due means reconnect.
      socketTimeout: commandTimeoutMs,
    });
    const subscriber = new Redis(url, {
      ...common,
      connectionName: `${name}:sub`,
      // The opposite choices: a (s)subscribe issued during an outage waits and is sent once the
      // connection is back, ioredis re-subscribes every confirmed channel after a reconnect and
      // resends the ones in flight, so the set of subscribed channels survives any outage. The
      // broker bounds how long a caller waits for a subscription.
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: true,
      autoResendUnfulfilledCommands: true,
    });
    const { hostname, port } = new URL(url);
    const target = { host: hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost', port: Number(port || 6379) };
    return RedisConnections.connect(new RedisConnections(command, subscriber, false), connectTimeoutMs, `Redis at ${redactUrl(url)}`, {
      ...options,
      tls,
      targets: [target],
    });
  }

  /**
   * The same two connections to a Redis Cluster, found from any of `nodes` (ioredis learns the
   * others and the slots from CLUSTER SLOTS). `password` (and `username`) are the nodes' AUTH.
   */
  static async openCluster(
    nodes: readonly RedisClusterNode[],
    options: RedisConnectionOptions & { username?: string; password?: string },
  ): Promise<RedisConnections> {
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const commandTimeoutMs = options.commandTimeoutMs ?? 5_000;
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    const name = options.name.replace(/[^\w.:-]/g, '_');
    const redisOptions: RedisOptions = {
      connectTimeout: connectTimeoutMs,
      Connector: GuardedConnector,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
      // Every node's connection, those learnt from CLUSTER SLOTS and the (sharded) subscribers
      // alike (ioredis builds them all from these options). No `servername`: each node's
      // certificate is checked against the host or IP address the relay connects to.
      ...(options.tls && { tls: { ...options.tls } }),
    };
    const common: ClusterOptions = {
      lazyConnect: true,
      clusterRetryStrategy: (attempt) => Math.round(Math.min(maxDelay, 50 * 2 ** Math.min(attempt - 1, 10)) * (0.5 + Math.random() / 2)),
      // A failover's window: MOVED, TRYAGAIN and CLUSTERDOWN mean "not executed", so they are
      // retried (bounded by maxRedirections); see below for a connection that closes.
      maxRedirections: 16,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      slotsRefreshTimeout: Math.min(2_000, connectTimeoutMs),
      // A promoted replica is learnt from CLUSTER SLOTS: asked every second (and on MOVED).
      slotsRefreshInterval: 1_000,
      // ioredis resolves the start-up nodes' host names to addresses before it connects, so their
      // certificates would be checked against an IP address: with TLS it connects to the name
      // (as REDIS_CLUSTER_NODES has it) and checks the certificate against it.
      ...(options.tls && { dnsLookup: (address: string, callback: (error: null, address: string) => void) => callback(null, address) }),
    };
    const startNodes = nodes.map((node) => ({ ...node }));
    const command = new Cluster(startNodes, {
      ...common,
      // As on one Redis: fail fast while a shard is unreachable, and never resend a command that
      // was in flight when its master's connection closed (its script may have run already).
      enableOfflineQueue: false,
      retryDelayOnFailover: 0,
      redisOptions: {
        ...redisOptions,
        connectionName: `${name}:cmd`,
        maxRetriesPerRequest: 0,
        autoResendUnfulfilledCommands: false,
        commandTimeout: commandTimeoutMs,
        socketTimeout: commandTimeoutMs,
      },
    });
    const subscriber = new Cluster(startNodes, {
      ...common,
      shardedSubscribers: true,
      enableOfflineQueue: true,
      retryDelayOnFailover: 100,
      redisOptions: { ...redisOptions, connectionName: `${name}:sub`, maxRetriesPerRequest: null, autoResendUnfulfilledCommands: true },
    });
    for (const client of [command, subscriber]) {
      // A node's connection is lazy, and a command sent while it is still connecting is refused
      // (no offline queue): connect each node as soon as the ready cluster learns of it. Not
      // before: the cluster's own ready check (CLUSTER INFO to any node) is refused by a node that
      // is connecting, while a lazy one takes it and connects; a TLS handshake lost that race
      // every time.
      const connectNode = (node: Redis) => {
        if (node.status === 'wait') node.connect().catch(() => undefined);
      };
      client.on('+node', (node: Redis) => {
        if (client.status === 'ready') connectNode(node);
      });
      client.on('ready', () => client.nodes('all').forEach(connectNode));
    }
    const where = `Redis Cluster at ${nodes.map((node) => `${node.host}:${node.port}`).join(',')}`;
    return RedisConnections.connect(new RedisConnections(command, subscriber, true), connectTimeoutMs, where, {
      ...options,
      targets: nodes,
    });
  }

  private static async connect(
    connections: RedisConnections,
    connectTimeoutMs: number,
    where: string,
    options: RedisConnectionOptions & { targets: readonly RedisClusterNode[] },
  ): Promise<RedisConnections> {
    const closing = () => connections.closing !== undefined;
    watch(connections.command, 'cmd', closing, options.log);
    watch(connections.subscriber, 'sub', closing, options.log);
    // A refused password (or none where one is needed) and a failed TLS handshake (a certificate
    // the relay does not trust, or the server refusing the relay's) show only as a connection (or
    // a cluster node's) error, and would fail every retry alike: either ends the wait at once,
    // rather than when the connect timeout runs out, and is what the error says.
    let refused: Error | undefined;
    let tlsFailure: string | undefined;
    let reset = false;
    let stop: (error: Error) => void = () => undefined;
    const failed = new Promise<never>((_, reject) => (stop = reject));
    const tlsContext = { ownCa: options.tls?.ca !== undefined };
    const note = (error: Error, node?: string) => {
      if (AUTH_REFUSED.test(error.message) && refused === undefined) {
        refused = error;
        stop(error);
      }
      if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') reset = true;
      const described = options.tls ? describeTlsFailure(error, tlsContext) : undefined;
      if (described && tlsFailure === undefined) {
        tlsFailure = node === undefined ? described : `${described} [node ${node}]`;
        stop(error);
      }
    };
    const clients = [connections.command, connections.subscriber];
    for (const client of clients) client.on('error', note).on('node error', note);
    // Beside them, one handshake of its own per target (an extra connection at start-up, closed at
    // once): see `probe` for what it sees that ioredis does not say.
    const { tls, targets } = options;
    const probeTimeoutMs = Math.min(connectTimeoutMs / 2, 5_000);
    if (tls) {
      // A cluster's failure names its node (as a cluster node's own error does); one Redis is named already.
      const named = connections.cluster;
      for (const target of targets)
        void probe(target, tls, probeTimeoutMs).then((error) => error && note(error, named ? `${target.host}:${target.port}` : undefined));
    }
    try {
      const ready = Promise.all([waitReady(connections.command, connectTimeoutMs), waitReady(connections.subscriber, connectTimeoutMs)]);
      await Promise.race([ready, failed]);
      // A cluster is ready before its nodes' own connections are (they connect on '+node', above):
      // the first commands would be refused.
      if (connections.command instanceof Cluster) await Promise.race([mastersReady(connections.command, connectTimeoutMs), failed]);
    } catch (error) {
      await connections.close();
      if (tlsFailure !== undefined) throw new Error(`${where} failed TLS: ${tlsFailure}`);
      if (refused) throw new Error(`${where} refused the relay's credentials: ${refused.message}`);
      // A plain-text client of a TLS-only port is dropped without a word, which ioredis does not
      // always pass on (a cluster's CLUSTER SLOTS connection swallows it): asked once more here.
      if (!tls && !reset) {
        const errors = await Promise.all(targets.map((target) => probe(target, undefined, Math.min(probeTimeoutMs, 1_000))));
        reset = errors.some((e) => e && [CLOSED_UNANSWERED, 'ECONNRESET'].includes((e as NodeJS.ErrnoException).code ?? ''));
      }
      const hint = reset ? ` (${connectionResetHint(tls && { clientCertificate: tls.cert !== undefined }, connections.cluster)})` : '';
      throw new Error(`${where} is not reachable: ${(error as Error).message}${hint}`);
    } finally {
      for (const client of clients) client.off('error', note).off('node error', note);
    }
    return connections;
  }

  /**
   * The connections the settings ask for: one Redis (REDIS_URL) or Redis Cluster
   * (REDIS_CLUSTER_NODES), or undefined for neither. The error names the setting at fault.
   */
  static async configured(
    settings: {
      redisUrl: string | undefined;
      redisClusterNodes: readonly RedisClusterNode[] | undefined;
      redisClusterAuth?: { username?: string; password: string } | undefined;
      /** TLS's files (REDIS_TLS_*), read; set only with a rediss:// URL or REDIS_CLUSTER_TLS. */
      redisTls?: RedisTlsOptions | undefined;
    },
    options: RedisConnectionOptions,
  ): Promise<RedisConnections | undefined> {
    const setting = settings.redisClusterNodes ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL';
    const withTls = { ...options, ...(settings.redisTls && { tls: settings.redisTls }) };
    try {
      if (settings.redisClusterNodes)
        return await RedisConnections.openCluster(settings.redisClusterNodes, { ...withTls, ...settings.redisClusterAuth });
      if (settings.redisUrl) return await RedisConnections.open(settings.redisUrl, withTls);
      return undefined;
    } catch (error) {
      throw new RedisConfigError(`${setting}: ${(error as Error).message}`);
    }
  }

  /** The masters of a cluster (their own connections), or the one Redis. */
  masters(): Redis[] {
    return this.command instanceof Cluster ? this.command.nodes('master') : [this.command];
  }

  /** Registers a user; the connections stay open until every user has released them. */
  acquire(): void {
    if (this.closing) throw new Error('the Redis connections are closed');
    this.users++;
  }

  async release(): Promise<void> {
    if (--this.users <= 0) await this.close();
  }

  /** Whether `close` has begun: a connection closing from then on is no outage. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Closes both connections now, whoever still uses them. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= Promise.all([quit(this.command), quit(this.subscriber)]).then(() => undefined));
  }
}

/** Logs an outage once when it begins and once when it ends, not every failed reconnect. */
function watch(client: RedisClient, role: Role, closing: () => boolean, log: RedisConnectionOptions['log']): void {
  let wasReady = false;
  let down = false;
  let lastError = '';
  client.on('error', (error: Error) => {
    // Without a listener ioredis prints every error to the console.
    lastError = error.message;
  });
  client.on('ready', () => {
    if (down) log?.info({ connection: role }, 'redis connection restored');
    wasReady = true;
    down = false;
  });
  client.on('close', () => {
    if (!wasReady || down || closing()) return;
    down = true;
    log?.warn({ connection: role, reason: lastError || 'closed' }, 'redis connection lost; reconnecting');
  });
  if (client instanceof Cluster) {
    // A node's connection is gone (a master died: a failover follows, or a replica). Once per node.
    client.on('-node', (node: Redis) => {
      if (closing() || !wasReady) return;
      log?.warn({ connection: role, node: `${node.options.host}:${node.options.port}` }, 'redis cluster node connection lost');
    });
  }
}

function waitReady(client: RedisClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let lastError: Error | undefined;
    const onError = (error: Error) => (lastError = error);
    const settle = () => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('error', onError);
      client.off('end', onEnd);
    };
    const timer = setTimeout(() => {
      settle();
      reject(new Error(`no connection within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`));
    }, timeoutMs);
    const onReady = () => {
      settle();
      resolve();
    };
    // Closed meanwhile (the wait was given up, e.g. on a TLS failure): no timer left behind.
    const onEnd = () => {
      settle();
      reject(new Error(`closed before it was ready${lastError ? ` (${lastError.message})` : ''}`));
    };
    client.once('ready', onReady);
    client.once('end', onEnd);
    client.on('error', onError);
    // Its rejection only repeats the first error; the retries go on and `ready` or the timer decides.
    client.connect().catch(() => undefined);
  });
}

async function mastersReady(cluster: Cluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const masters = cluster.nodes('master');
    if (masters.length > 0 && masters.every((node) => node.status === 'ready')) return;
    if (cluster.status === 'end') throw new Error('closed before its masters were ready');
    if (Date.now() > deadline) throw new Error(`the cluster's masters did not all connect within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** QUIT lets pending replies arrive; a connection that is down, or does not answer, is dropped. */
async function quit(client: RedisClient): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') {
    try {
      await withTimeout(client.quit(), 1000, 'QUIT');
      return;
    } catch {
      // Fall through to the hard close.
    }
  }
  client.disconnect();
}

/** Redis named by the settings cannot be used (the caller turns it into its ConfigError). */
export class RedisConfigError extends Error {
  override readonly name = 'RedisConfigError';
}

/** Redis did not answer in time (`withTimeout`): unreachable, frozen, or far too busy. */
export class RedisTimeoutError extends Error {
  override readonly name = 'RedisTimeoutError';
}

/** `promise`, or a `RedisTimeoutError` after `ms` (for Redis calls that must not hang a caller). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisTimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What ioredis rejects a command with when Redis cannot be reached, given the options above
 * (no offline queue, no retries): the command was never sent, or its connection closed or went
 * silent before the reply. Matched by name and message because ioredis throws plain `Error`s
 * for most of them; anything else (a script error, a bug) is not an outage.
 */
const UNREACHABLE_MESSAGES = new Set([
  "Stream isn't writeable and enableOfflineQueue options is false",
  "Cluster isn't ready and enableOfflineQueue options is false",
  'Connection is closed.',
  'Command timed out',
  'Failed to refresh slots cache.',
  'None of startup nodes is available',
]);
/** A Redis Cluster in a failover's window: the redirections ran out (MOVED to a dead master, CLUSTERDOWN...). */
const CLUSTER_UNREACHABLE = /^(Too many Cluster redirections|Failed to refresh slots cache)/;
/** Aborted in flight by a closing connection (`AbortError`, `MaxRetriesPerRequestError` extends it). */
const UNREACHABLE_NAMES = new Set(['AbortError', 'MaxRetriesPerRequestError', 'RedisTimeoutError']);
/** Replies of a Redis that is up but cannot serve yet (loading its AOF, a replica without its primary). */
const NOT_READY_REPLY = /^(LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** Whether a Redis call failed because Redis could not be reached (retry later), not because of a bug. */
export function isRedisUnreachableError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (UNREACHABLE_NAMES.has(error.name) || UNREACHABLE_MESSAGES.has(error.message) || CLUSTER_UNREACHABLE.test(error.message)) return true;
  if (error.name === 'ReplyError' && NOT_READY_REPLY.test(error.message)) return true;
  const code = (error as NodeJS.ErrnoException).code;
  return typeof code === 'string' && SOCKET_ERRORS.has(code);
}

/** The URL for a log line or an error: without its password. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
