import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Broker } from './broker/broker';
import { MemoryBroker } from './broker/memory-broker';
import { MemoryPresenceStore } from './broker/memory-presence';
import type { PresenceStore } from './broker/presence';
import { ConfigError, type RelayConfig } from './config/config';
import { DocumentAuthority } from './documents/document-authority';
import type { DocumentStore } from './documents/document-store';
import { MemoryDocumentStore } from './documents/memory-document-store';
import { Gateway } from './gateway/gateway';
import { HandlerContext } from './handlers/context';
import { createHandlers } from './handlers';
import { HttpApi } from './http/http-api';
import { createLogger, type Logger } from './log';
import { Hub } from './routing/hub';
import { SessionsApi } from './http/sessions-api';
import { MemorySessionStore } from './sessions/memory-session-store';
import { SessionDirectory } from './sessions/session-directory';
import type { SessionStore } from './sessions/session-store';
import { Router } from './routing/router';
import { RelayStats } from './stats';

export interface Relay {
  readonly relayId: string;
  readonly port: number;
  /** `ws://host:port/ws` */
  readonly url: string;
  /** Graceful: stop accepting, say `disconnect` (reason `shutdown`), drain, close. */
  stop(): Promise<void>;
}

export interface RelayOptions {
  config: RelayConfig;
  secret: string;
  logger?: Logger;
}

/** Picks the bus and storage: the embedded in-memory ones unless REDIS_URL is set. */
function createStorage(config: RelayConfig): { broker: Broker; presence: PresenceStore; documents: DocumentStore; sessionStore: SessionStore } {
  if (config.redisUrl) {
    throw new ConfigError('Invalid configuration: REDIS_URL is not supported by this build yet; unset it to use the embedded default');
  }
  return {
    broker: new MemoryBroker(),
    presence: new MemoryPresenceStore(),
    documents: new MemoryDocumentStore({ historySize: config.documentHistorySize, idleTimeoutMs: config.documentIdleTimeoutMs }),
    sessionStore: new MemorySessionStore(),
  };
}

/** The composition root: reads nothing itself, wires the parts, listens. */
export async function startRelay({ config, secret, logger }: RelayOptions): Promise<Relay> {
  const log = logger ?? createLogger(config.logLevel);
  const relayId = config.relayId ?? `relay-${randomUUID().slice(0, 8)}`;
  const { broker, presence, documents, sessionStore } = createStorage(config);
  const stats = new RelayStats();
  const hub = new Hub(broker, stats);
  await hub.start();
  const authority = new DocumentAuthority(documents, { maxLength: config.documentMaxLength });
  const router = new Router(createHandlers(new HandlerContext(hub, relayId, authority)));
  const keepOpenDocuments = keepDocumentsAlive(hub, documents, config.documentIdleTimeoutMs, log);
  const sessions = new SessionDirectory(sessionStore, hub);
  const gateway = new Gateway({ config, secret, relayId, hub, router, presence, sessions, stats, log });
  const api = new HttpApi({
    relayId,
    secret,
    redisConfigured: config.redisUrl !== undefined,
    corsOrigins: config.corsOrigins,
    gateway,
    hub,
    broker,
    stats,
    sessions: new SessionsApi({ secret, sessions, presence, publicUrl: config.publicUrl, trustProxy: config.trustProxy }),
    log,
  });

  const server: Server = createServer((request, response) => api.handle(request, response));
  gateway.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `ws://${host}:${port}/ws`;
  log.info({ relay: relayId, url, storage: config.redisUrl ? 'redis' : 'memory' }, 'relay listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info({ relay: relayId, connections: gateway.connectionCount }, 'shutting down');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await gateway.shutdown(config.shutdownTimeoutMs);
      clearInterval(keepOpenDocuments);
      server.closeAllConnections();
      await closed;
      await hub.close();
      await presence.close();
      await documents.close();
      await sessionStore.close();
      await broker.close();
      log.info({ relay: relayId }, 'stopped');
    })());

  return { relayId, port, url, stop };
}

/**
 * The store drops a document nobody used for the idle timeout; one that is merely open (someone
 * reading, or thinking) must stay, so the documents open here are touched well within it.
 */
function keepDocumentsAlive(hub: Hub, documents: DocumentStore, idleTimeoutMs: number, log: Logger): NodeJS.Timeout {
  return setInterval(() => {
    for (const { sessionId, documentId } of hub.openDocuments()) {
      documents.touch(sessionId, documentId).catch((error: unknown) => log.warn({ err: error, session: sessionId }, 'could not keep a document alive'));
    }
  }, Math.max(100, idleTimeoutMs / 4)).unref();
}
