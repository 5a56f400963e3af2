/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas (`redis-server --cluster-enabled yes`,
 * each a `RedisServer` on a free loopback port with its own temp dir), joined by
 * `redis-cli --cluster create`; plain, or TLS only (`tls`). Tests can kill a master (kill -9) and
 * wait for its replica to take over. Never the shared instance on 6379.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { type RedisServer, type RedisServerTls, startRedisServer } from './redis-server';
import { sleep } from './wait';

const run = promisify(execFile);
const CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

export interface RedisClusterOptions {
  /** Masters (default 3); each gets `replicas` replicas (default 1). */
  masters?: number;
  replicas?: number;
  /** `cluster-node-timeout`: how soon a dead master is failed over (default 1000 ms). */
  nodeTimeoutMs?: number;
  /** Upper bound for forming the cluster and for a failover (default 20 s). */
  timeoutMs?: number;
  /** Every node's `requirepass` (and `masterauth`, for its replicas); the tools here use it too. */
  password?: string;
  /**
   * TLS only: every node's `tls-port` (cluster bus and replication included, `tls-cluster`,
   * `tls-replication`), the tools here over TLS too, with the client certificate.
   */
  tls?: RedisServerTls;
}

export interface ClusterNode {
  server: RedisServer;
  id: string;
  role: 'master' | 'slave';
  /** The master's slot ranges, `[from, to]`. */
  slots: Array<[number, number]>;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const nodeTimeout = options.nodeTimeoutMs ?? 1000;
  const servers: RedisServer[] = [];
  const { password, tls } = options;
  const cluster = new RedisCluster(servers, options.timeoutMs ?? 20_000, password, tls);
  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      servers.push(
        await startRedisServer({
          config: [
            'cluster-enabled yes',
            'cluster-config-file nodes.conf',
            `cluster-node-timeout ${nodeTimeout}`,
            // A replica whose master is gone takes over however long it was cut off (tests kill masters).
            'cluster-replica-validity-factor 0',
            'appendonly no',
            ...(password === undefined ? [] : [`requirepass ${password}`, `masterauth ${password}`]),
            ...(tls === undefined ? [] : ['tls-cluster yes', 'tls-replication yes']),
          ],
          ...(tls && { tls }),
        }),
      );
    }
    await run(CLI, [
      ...authArgs(password),
      ...tlsArgs(tls),
      '--cluster',
      'create',
      ...servers.map((server) => `127.0.0.1:${server.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    await cluster.waitUntilOk();
    return cluster;
  } catch (error) {
    await cluster.dispose();
    throw error;
  }
}

export class RedisCluster {
  constructor(
    readonly servers: RedisServer[],
    private readonly timeoutMs: number,
    private readonly password?: string,
    private readonly tls?: RedisServerTls,
  ) {}

  /** `host:port,host:port,…` of every node: what REDIS_CLUSTER_NODES takes. */
  get nodesSetting(): string {
    return this.servers.map((server) => `127.0.0.1:${server.port}`).join(',');
  }

  get startupNodes(): Array<{ host: string; port: number }> {
    return this.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
  }

  /** The nodes as a running node sees them (CLUSTER NODES), live ones only. */
  async nodes(): Promise<ClusterNode[]> {
    const text = await this.ask(['CLUSTER', 'NODES']);
    const nodes: ClusterNode[] = [];
    for (const line of text.trim().split('\n')) {
      const [id, address, flags, , , , , link, ...slotRanges] = line.split(' ');
      if (!id || !address || !flags || flags.includes('fail') || link !== 'connected') continue;
      const port = Number(address.split('@')[0]!.split(':')[1]);
      const server = this.servers.find((s) => s.port === port && s.running);
      if (!server) continue;
      const slots = slotRanges
        .filter((range) => !range.startsWith('['))
        .map((range) => {
          const [from, to] = range.split('-').map(Number);
          return [from!, to ?? from!] as [number, number];
        });
      nodes.push({ server, id, role: flags.includes('master') ? 'master' : 'slave', slots });
    }
    return nodes;
  }

  async masters(): Promise<ClusterNode[]> {
    return (await this.nodes()).filter((node) => node.role === 'master' && node.slots.length > 0);
  }

  /** The master that serves `slot` now. */
  async masterOf(slot: number): Promise<ClusterNode> {
    const master = (await this.masters()).find((node) => node.slots.some(([from, to]) => slot >= from && slot <= to));
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master;
  }

  /** CLUSTER KEYSLOT (through a client: a key may hold a NUL, which no command line can). */
  async keySlot(key: string): Promise<number> {
    const server = this.servers.find((s) => s.running);
    if (!server) throw new Error('no cluster node is running');
    const client = this.client(server);
    try {
      return Number(await client.cluster('KEYSLOT', key));
    } finally {
      client.disconnect();
    }
  }

  /** Waits until every running node says `cluster_state:ok` and every slot has a live master. */
  async waitUntilOk(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.servers.filter((s) => s.running).map((s) => this.askNode(s.port, ['CLUSTER', 'INFO']).catch(() => '')),
      );
      const ok = states.every((info) => info.includes('cluster_state:ok'));
      const covered =
        ok && (await this.masters().catch(() => [])).reduce((sum, m) => sum + m.slots.reduce((n, [a, b]) => n + b - a + 1, 0), 0);
      if (ok && covered === 16384) return;
      if (Date.now() > deadline) throw new Error(`the cluster is not ok after ${this.timeoutMs} ms: ${states.join(' | ')}`);
      await sleep(100);
    }
  }

  /**
   * kill -9 of the master serving `slot` (its replicas thawed, if `cutReplicas` froze them), then
   * waits until one of its replicas was promoted and the cluster is ok again. Returns the killed node.
   */
  async killMasterOf(slot: number): Promise<ClusterNode> {
    const master = await this.masterOf(slot);
    await master.server.kill();
    for (const server of this.servers) server.thaw();
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const now = await this.masterOf(slot).catch(() => undefined);
      if (now && now.server !== master.server) break;
      if (Date.now() > deadline) throw new Error(`no replica took over slot ${slot} within ${this.timeoutMs} ms`);
      await sleep(100);
    }
    await this.waitUntilOk();
    return master;
  }

  /**
   * Cuts the replicas of the master serving `slot` off it: frozen (SIGSTOP), and their replication
   * links closed by the master (CLIENT KILL TYPE replica), so that nothing the master acknowledges
   * from now on reaches them. Killing the master then (`killMasterOf` thaws them, and one takes
   * over) loses those acknowledged writes: what Redis Cluster's asynchronous replication can do
   * to a master under load, made certain.
   */
  async cutReplicas(slot: number): Promise<void> {
    const master = await this.masterOf(slot);
    const lines = (await this.askNode(master.server.port, ['CLUSTER', 'REPLICAS', master.id])).trim().split('\n');
    const ports = lines.map((line) => Number(line.split(' ')[1]?.split('@')[0]?.split(':')[1]));
    const replicas = this.servers.filter((server) => ports.includes(server.port) && server.running);
    if (replicas.length === 0) throw new Error(`the master of slot ${slot} has no replica`);
    for (const replica of replicas) replica.freeze();
    await this.askNode(master.server.port, ['CLIENT', 'KILL', 'TYPE', 'replica']);
  }

  /**
   * Waits until the replicas of the master serving `slot` have every write it had when called
   * (replication is asynchronous).
   */
  async waitForReplicas(slot: number): Promise<void> {
    const master = await this.masterOf(slot);
    const deadline = Date.now() + this.timeoutMs;
    const first = await this.askNode(master.server.port, ['INFO', 'replication']);
    const offset = Number(/master_repl_offset:(\d+)/.exec(first)?.[1] ?? NaN);
    for (;;) {
      const info = await this.askNode(master.server.port, ['INFO', 'replication']);
      const replicas = [...info.matchAll(/^slave\d+:.*offset=(\d+)/gm)].map((match) => Number(match[1]));
      if (replicas.length > 0 && replicas.every((replica) => replica >= offset)) return;
      if (Date.now() > deadline) throw new Error(`the replicas of slot ${slot}'s master are behind: ${info}`);
      await sleep(50);
    }
  }

  /** A Redis client on one running node (not cluster-aware), e.g. for INFO. */
  client(server: RedisServer): Redis {
    return new Redis(server.port, '127.0.0.1', {
      lazyConnect: false,
      maxRetriesPerRequest: 1,
      ...(this.password !== undefined && { password: this.password }),
      ...(this.tls && { tls: clientTls(this.tls) }),
    });
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.dispose()));
  }

  private async ask(command: string[]): Promise<string> {
    for (const server of this.servers) {
      if (!server.running) continue;
      try {
        return await this.askNode(server.port, command);
      } catch {
        // The next node.
      }
    }
    throw new Error('no cluster node answers');
  }

  private async askNode(port: number, command: string[]): Promise<string> {
    const { stdout } = await run(CLI, [...authArgs(this.password), ...tlsArgs(this.tls), '-p', String(port), ...command], {
      timeout: 2000,
    });
    return stdout;
  }
}

/** redis-cli's arguments for a password, without its warning about passwords on command lines. */
function authArgs(password: string | undefined): string[] {
  return password === undefined ? [] : ['-a', password, '--no-auth-warning'];
}

/** redis-cli's arguments for TLS: the CA, and the client certificate (whether the nodes ask for one or not). */
function tlsArgs(tls: RedisServerTls | undefined): string[] {
  if (!tls) return [];
  const { caFile, clientCertFile, clientKeyFile } = tls.certificates;
  return ['--tls', '--cacert', caFile, '--cert', clientCertFile, '--key', clientKeyFile];
}

/** The same for an ioredis client. */
function clientTls(tls: RedisServerTls): { ca: Buffer; cert: Buffer; key: Buffer } {
  const { caFile, clientCertFile, clientKeyFile } = tls.certificates;
  return { ca: readFileSync(caFile), cert: readFileSync(clientCertFile), key: readFileSync(clientKeyFile) };
}
