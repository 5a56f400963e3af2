import { Cluster, type Redis } from 'ioredis';
import type { Availability } from '../broker/availability';
import { isRedisUnreachableError, type RedisClient, type RedisConnections, withTimeout } from './redis-connection';

/** Hears of each outage exactly twice: when it begins, and when Redis has been back for a while. */
export interface OutageListener {
  down(reason: string): void;
  up(downForMs: number): void;
}

export interface RedisOutageOptions {
  /** How often Redis is probed during an outage; two good probes in a row end it (default 500 ms). */
  probeIntervalMs?: number;
  /** How long a probe's PING may take (default 1 s). */
  probeTimeoutMs?: number;
}

/**
 * One relay-wide answer to "can this relay reach Redis?", with one `down` and one `up` per
 * outage whatever the connections do meanwhile.
 *
 * Down: the moment either connection closes (Redis stopped, the network dropped, or a socket
 * went silent past the command timeout: `RedisConnections` turns a frozen Redis into a close).
 * Up: only once both connections are ready and two probes in a row, `probeIntervalMs` apart,
 * got a PING through each with no close in between. A connection that flaps (back for a moment,
 * gone again) therefore keeps the one outage going instead of announcing a new one each time,
 * and the subscriber's PING is answered after its re-subscriptions (same connection, in order):
 * when `up` is called, publications reach this relay again.
 *
 * On Redis Cluster a node's connection closing (`-node`: a master killed, a failover under way) is
 * an outage too, even though the cluster clients stay up: publications of that shard were lost
 * meanwhile (pub/sub is at most once), and the clients must resume. Up once both clients are
 * ready, the cluster says `cluster_state:ok`, every master answers PING and the subscriber sees the
 * same masters as the command client (its sharded subscribers follow the promoted replicas).
 */
export class RedisOutageMonitor implements Availability {
  private down = false;
  private downSince = 0;
  /** Closes seen so far: a probe that saw one happen while it ran proves nothing. */
  private closes = 0;
  private goodProbes = 0;
  private probeTimer: NodeJS.Timeout | undefined;
  private disposed = false;
  private listener: OutageListener | undefined;
  private readonly probeIntervalMs: number;
  private readonly probeTimeoutMs: number;
  private readonly clients: Array<[role: string, client: RedisClient, onClose: () => void]>;

  constructor(
    private readonly redis: RedisConnections,
    options: RedisOutageOptions = {},
  ) {
    this.probeIntervalMs = options.probeIntervalMs ?? 500;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 1000;
    this.clients = [
      ['command', redis.command, () => this.closed('command')],
      ['subscriber', redis.subscriber, () => this.closed('subscriber')],
    ];
    for (const [, client, onClose] of this.clients) {
      client.on('close', onClose);
      if (client instanceof Cluster && client === redis.command) client.on('-node', this.nodeLost);
    }
  }

  get available(): boolean {
    return !this.down;
  }

  isUnavailableError(error: unknown): boolean {
    return isRedisUnreachableError(error);
  }

  /** The one listener (the relay's composition root). */
  onOutage(listener: OutageListener): void {
    this.listener = listener;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.probeTimer);
    for (const [, client, onClose] of this.clients) {
      client.off('close', onClose);
      client.off('-node', this.nodeLost);
    }
  }

  /**
   * The command client lost a node's connection. Only a master that serves slots counts: the pool
   * also drops replicas when the topology it reads changes (as right after a cluster formed).
   */
  private readonly nodeLost = (node: Redis): void => {
    const command = this.redis.command;
    if (!(command instanceof Cluster)) return;
    const key = `${node.options.host}:${node.options.port}`;
    if (command.slots.some((owners) => owners?.[0] === key)) this.closed(`master ${key}`);
  };

  private closed(role: string): void {
    if (this.disposed || this.redis.closed) return;
    this.closes++;
    this.goodProbes = 0;
    if (this.down) return;
    this.down = true;
    this.downSince = Date.now();
    this.schedule();
    this.listener?.down(`the ${role} connection to Redis closed`);
  }

  private schedule(): void {
    if (this.disposed) return;
    this.probeTimer = setTimeout(() => void this.probe(), this.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const closesBefore = this.closes;
    const ready = this.clients.every(([, client]) => client.status === 'ready');
    const answered = ready && (await withTimeout(this.answers(), this.probeTimeoutMs, 'PING').catch(() => false));
    if (this.disposed) return;
    this.goodProbes = answered && this.closes === closesBefore ? this.goodProbes + 1 : 0;
    if (this.goodProbes < 2) return this.schedule();
    this.down = false;
    this.goodProbes = 0;
    this.listener?.up(Date.now() - this.downSince);
  }

  /** Whether Redis answers through both connections (on a cluster: every master, as above). */
  private async answers(): Promise<boolean> {
    const { command, subscriber } = this.redis;
    if (!(command instanceof Cluster) || !(subscriber instanceof Cluster)) {
      await Promise.all([command.ping(), subscriber.ping()]);
      return true;
    }
    // Every slot served by a master that both clients know, the same one for both.
    const servers = (cluster: Cluster): string | undefined => {
      const masters = new Set(cluster.nodes('master').map((node) => `${node.options.host}:${node.options.port}`));
      const keys = new Set<string>();
      for (let slot = 0; slot < 16384; slot++) {
        const key = cluster.slots[slot]?.[0];
        if (key === undefined || !masters.has(key)) return undefined;
        keys.add(key);
      }
      return [...keys].sort().join(',');
    };
    const served = servers(command);
    if (served === undefined || served !== servers(subscriber)) return false;
    const masters = command.nodes('master');
    const info = (await masters[0]!.cluster('INFO')) as string;
    if (!info.includes('cluster_state:ok')) return false;
    await Promise.all(masters.map((node) => node.ping()));
    return true;
  }
}
