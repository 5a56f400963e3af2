import type { Availability } from '../broker/availability';
import type { Broker } from '../broker/broker';
import type { DocumentStore } from '../documents/document-store';
import type { HandlerTable } from '../routing/router';
import type { Hub } from '../routing/hub';
import type { Logger } from '../log';
import type { RedisConnections } from '../redis/redis-connection';
import type { SessionDirectory } from '../sessions/session-directory';
import { DEFAULT_GROUP } from '../streams/stream-processor';
import type { StreamStore } from '../streams/stream-store';
import { ClusterView } from './cluster-view';
import { DashboardFiles, findDashboardDir } from './dashboard-files';
import { MemoryClusterViewStore } from './memory-cluster-view-store';
import { OperatorApi } from './operator-api';
import { operatorStatus } from './operator-status';
import { prometheusAlerts } from './prometheus-alerts';
import { RedisClusterViewStore } from './redis-cluster-view-store';

/** How often each relay publishes its view of its sessions. */
const VIEW_INTERVAL_MS = 1000;

export interface OperatorSideDeps {
  relayId: string;
  secret: string;
  prometheusUrl: string | undefined;
  redis: RedisConnections | undefined;
  redisPrefix: string;
  hub: Hub;
  broker: Broker;
  availability: Availability;
  documents: DocumentStore;
  directory: SessionDirectory;
  streams: StreamStore;
  log: Logger;
}

/**
 * What the relay does for the operators' dashboard, made in one place so that the composition
 * root only wires it: the sessions view every relay publishes, the `/api/operator/*` calls, and
 * the dashboard's page at `/dashboard/`.
 */
export class OperatorSide {
  readonly view: ClusterView;
  readonly api: OperatorApi;
  readonly dashboard = new DashboardFiles(findDashboardDir());
  private readonly store: MemoryClusterViewStore | RedisClusterViewStore;

  constructor(deps: OperatorSideDeps) {
    const { redis, hub } = deps;
    this.store = redis ? new RedisClusterViewStore(redis, { prefix: deps.redisPrefix }) : new MemoryClusterViewStore();
    this.view = new ClusterView(
      this.store,
      {
        connections: () => hub.connections,
        head: (sessionId, documentId) => deps.documents.head(sessionId, documentId),
        record: (sessionId) => deps.directory.get(sessionId),
      },
      { relayId: deps.relayId, intervalMs: VIEW_INTERVAL_MS, log: deps.log },
    );
    const prometheusUrl = deps.prometheusUrl;
    this.api = new OperatorApi({
      secret: deps.secret,
      status: () =>
        operatorStatus({
          relayId: deps.relayId,
          redisConfigured: redis !== undefined,
          health: async () => {
            const health = await deps.broker.health();
            if (health.status === 'down' || deps.availability.available) return health;
            return { ...health, status: 'down', detail: 'reachable again, making sure it stays up' };
          },
          // On Redis Cluster, the masters' sum.
          redisMemoryBytes: async () => {
            if (!redis) return undefined;
            const used = (await Promise.all(redis.masters().map(async (node) => usedMemory(await node.info('memory'))))).filter(
              (bytes) => bytes !== undefined,
            );
            return used.length === 0 ? undefined : used.reduce((sum, bytes) => sum + bytes, 0);
          },
          streams: deps.streams,
          group: DEFAULT_GROUP,
          prometheusConfigured: prometheusUrl !== undefined,
        }),
      sessions: () => this.view.sessions(),
      alerts: prometheusUrl === undefined ? undefined : () => prometheusAlerts(prometheusUrl),
      directory: deps.directory,
      hub,
      log: deps.log,
    });
  }

  start(): void {
    this.view.start();
  }

  async stop(): Promise<void> {
    await this.view.stop();
    await this.store.close();
  }
}

/** The chat handler, also counting each message for its session's row in the operators' table. */
export function countingChat(handlers: HandlerTable, count: (sessionId: string) => void): HandlerTable {
  const chat = handlers['chat.message'];
  return {
    ...handlers,
    'chat.message': {
      ...chat,
      handle: (connection, frame) => {
        count(connection.sessionId);
        return chat.handle(connection, frame);
      },
    },
  };
}

function usedMemory(info: string): number | undefined {
  const match = /^used_memory:(\d+)/m.exec(info);
  return match ? Number(match[1]) : undefined;
}
