import { createConnection } from 'node:net';
import { mintToken } from '../../relay/auth/tokens';
import { startRedisServer, type RedisServer } from '../../test/support/redis-server';
import {
  baselineLaunch,
  relayBundle as defaultRelayBundle,
  relayLaunch,
  type ServerLaunch,
  type ServerProcess,
  startServer,
} from '../processes';
import type { QuietWaiter } from '../proc-stats';
import { type BenchDatabase, createBenchDatabase, postgresPids } from './postgres';

/**
 * The servers of one scale-out target: relays (alone, or on a Redis of their own), Socket.IO
 * servers on one Redis with the redis adapter, or ShareDB servers. Each target gets a fresh
 * `redis-server` on a free port (never the shared one on 6379), so its CPU is the target's alone,
 * and a ShareDB on PostgreSQL a database of its own (postgres.ts).
 */

export type TargetName = 'relay' | 'relay-redis' | 'relay-x2' | 'socketio-x2' | 'sharedb-redis' | 'sharedb-pg' | 'sharedb-pg-x2';

export interface TargetSpec {
  name: TargetName;
  kind: 'relay' | 'socketio' | 'sharedb';
  servers: number;
  redis: boolean;
  /** A PostgreSQL database of the target's own (postgres.ts), shared by its servers. */
  postgres?: boolean;
  description: string;
}

export const TARGETS: Record<TargetName, TargetSpec> = {
  relay: {
    name: 'relay',
    kind: 'relay',
    servers: 1,
    redis: false,
    description: 'one relay alone, embedded in-memory bus and store (no Redis)',
  },
  'relay-redis': {
    name: 'relay-redis',
    kind: 'relay',
    servers: 1,
    redis: true,
    description: 'one relay with REDIS_URL (every publication through Redis)',
  },
  'relay-x2': { name: 'relay-x2', kind: 'relay', servers: 2, redis: true, description: 'two relays on one Redis' },
  'sharedb-redis': {
    name: 'sharedb-redis',
    kind: 'sharedb',
    servers: 1,
    redis: true,
    description: 'ShareDB (memory database) with sharedb-redis-pubsub: every op through Redis (commits only)',
  },
  'sharedb-pg': {
    name: 'sharedb-pg',
    kind: 'sharedb',
    servers: 1,
    redis: true,
    postgres: true,
    description: 'ShareDB on PostgreSQL (sharedb-postgres) with sharedb-redis-pubsub, as it is deployed to scale out (commits only)',
  },
  'sharedb-pg-x2': {
    name: 'sharedb-pg-x2',
    kind: 'sharedb',
    servers: 2,
    redis: true,
    postgres: true,
    description: 'two ShareDB servers on one PostgreSQL and one Redis (commits only)',
  },
  'socketio-x2': {
    name: 'socketio-x2',
    kind: 'socketio',
    servers: 2,
    redis: true,
    description: 'two Socket.IO servers with @socket.io/redis-adapter on one Redis',
  },
};

/** What every phase of the bench shares. */
export interface BenchContext {
  secret: string;
  relayEnv: Record<string, string>;
  socketIoBundle: string;
  /** The OT bench's ShareDB server (`ot/sharedb-server.ts`). */
  sharedbBundle: string;
  loadgenBundle: string;
  quiet: QuietWaiter;
}

export function sessionToken(context: BenchContext, user: string, sessions: string[], role: 'host' | 'editor' = 'editor'): string {
  return mintToken(context.secret, { user, sessions, role, ttl: '1h' });
}

export interface Cluster {
  spec: TargetSpec;
  servers: ServerProcess[];
  redis: RedisServer | undefined;
  redisPid: number | undefined;
  /** Servers first, then Redis: the processes whose CPU is the target's. */
  pids: number[];
  /** The database server's processes, when the target has one: read when a measured window starts. */
  databasePids?: () => number[];
  stop(): Promise<void>;
}

/** `relayBundle`: another relay build for the relays (the same run's baseline of a change). */
export async function startCluster(
  context: BenchContext,
  spec: TargetSpec,
  extraEnv: Record<string, string> = {},
  relayBundle?: string,
): Promise<Cluster> {
  const redis = spec.redis ? await startRedisServer() : undefined;
  const servers: ServerProcess[] = [];
  let database: BenchDatabase | undefined;
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all([redis?.dispose(), database?.dispose()]);
  };
  try {
    const redisPid = redis ? await redisProcessId(redis.port) : undefined;
    if (spec.postgres) database = await createBenchDatabase();
    const env = { ...(database && { SHAREDB_PG_URL: database.url }), ...extraEnv };
    for (let i = 0; i < spec.servers; i++) servers.push(await startServer(launch(context, spec, i, redis, env, relayBundle)));
    return {
      spec,
      servers,
      redis,
      redisPid,
      pids: [...servers.map((s) => s.pid), ...(redisPid ? [redisPid] : [])],
      ...(database && { databasePids: postgresPids }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

function launch(
  context: BenchContext,
  spec: TargetSpec,
  index: number,
  redis: RedisServer | undefined,
  extraEnv: Record<string, string>,
  relayBundle: string | undefined,
): ServerLaunch {
  const name = `${spec.name}-${index + 1}`;
  const redisEnv: Record<string, string> = redis ? { REDIS_URL: redis.url } : {};
  if (spec.kind === 'relay') {
    const base = relayLaunch({ ...context.relayEnv, ...redisEnv, RELAY_ID: name, ...extraEnv });
    const args = relayBundle ? base.args.map((a) => (a === defaultRelayBundle ? relayBundle : a)) : base.args;
    return { ...base, name, args };
  }
  if (spec.kind === 'sharedb') {
    const base = baselineLaunch(name, context.sharedbBundle);
    return { ...base, env: { ...base.env, ...(redis && { SHAREDB_REDIS_URL: redis.url }), ...extraEnv } };
  }
  const base = baselineLaunch(name, context.socketIoBundle);
  return { ...base, env: { ...base.env, ...redisEnv, AUTH_SECRET: context.secret, ...extraEnv } };
}

/** The server's pid from `INFO server` (the test helper keeps its child to itself). */
function redisProcessId(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (pid: number | undefined) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(2000, () => done(undefined));
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const match = /process_id:(\d+)/.exec(reply);
      if (match) done(Number(match[1]));
    });
    socket.once('error', () => done(undefined));
  });
}
