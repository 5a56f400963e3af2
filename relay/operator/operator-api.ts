import type { IncomingMessage } from 'node:http';
import {
  type ClusterSessions,
  encodeServerFrame,
  type OperatorAlerts,
  OperatorNotice,
  type OperatorStatus,
  ProtocolError,
  SessionId,
  SYSTEM_USER_ID,
} from '../../protocol';
import { type OperatorPrincipal, verifyOperator } from '../auth/tokens';
import { bearerToken, decodeSegment, readBody } from '../http/http-util';
import type { Logger } from '../log';
import type { Hub } from '../routing/hub';
import type { SessionDirectory } from '../sessions/session-directory';

export interface OperatorApiDeps {
  secret: string;
  status(): Promise<OperatorStatus>;
  sessions(): Promise<ClusterSessions>;
  /** Prometheus's alert rules; undefined when no PROMETHEUS_URL is configured. */
  alerts: (() => Promise<OperatorAlerts>) | undefined;
  directory: Pick<SessionDirectory, 'end'>;
  hub: Pick<Hub, 'toSession' | 'toEveryone'>;
  log: Pick<Logger, 'info'>;
}

const SESSION_PATH = /^\/api\/operator\/sessions\/([^/]+)$/;

/**
 * The dashboard's REST calls under `/api/operator/`, for operator tokens (`relay token
 * --operator`) and admin tokens only: the relay's status, the cluster's sessions, the alerts, and
 * the two actions (a notice to a session or everyone, ending a session). Each action is logged
 * with the operator who took it.
 */
export class OperatorApi {
  constructor(private readonly deps: OperatorApiDeps) {}

  /** [status, body] for a path under /api/operator/, or undefined when no route matches. */
  async route(request: IncomingMessage, method: string, path: string): Promise<[number, unknown] | undefined> {
    const operator = () => verifyOperator(this.deps.secret, bearerToken(request));
    switch (`${method} ${path}`) {
      case 'GET /api/operator/status':
        operator();
        return [200, await this.deps.status()];
      case 'GET /api/operator/sessions':
        operator();
        return [200, await this.deps.sessions()];
      case 'GET /api/operator/alerts':
        operator();
        if (!this.deps.alerts) {
          throw new ProtocolError(
            'NOT_FOUND',
            'no PROMETHEUS_URL is configured: the dashboard computes the alerts from the live aggregates',
          );
        }
        return [200, await this.deps.alerts()];
      case 'POST /api/operator/notices':
        return [202, await this.notice(request, operator())];
    }
    const session = SESSION_PATH.exec(path);
    if (session && method === 'DELETE') {
      const who = operator();
      const sessionId = SessionId.safeParse(decodeSegment(session[1]!, 'path'));
      if (!sessionId.success) throw new ProtocolError('SESSION_NOT_FOUND', 'not a session id', 'path');
      const ended = await this.deps.directory.end(sessionId.data).catch((error: unknown) => {
        if (error instanceof ProtocolError && error.code === 'SESSION_NOT_FOUND') {
          throw new ProtocolError(
            'SESSION_NOT_FOUND',
            'no record of this session: an ad hoc session (tokens minted by `relay token`) cannot be ended; its tokens expire',
          );
        }
        throw error;
      });
      this.deps.log.info({ operator: who.userId, session: ended.id }, 'operator ended a session');
      return [200, { session_id: ended.id, ended_at: new Date(ended.endedAt ?? Date.now()).toISOString() }];
    }
    return undefined;
  }

  private async notice(request: IncomingMessage, who: OperatorPrincipal): Promise<{ delivered_to: string }> {
    const { session_id: sessionId, ...notification } = await readBody(request, OperatorNotice);
    const message = {
      eventType: 'system.notification',
      data: encodeServerFrame('system.notification', notification, { userId: SYSTEM_USER_ID, sessionId }),
    };
    if (sessionId) await this.deps.hub.toSession(sessionId, message, {}, { history: true });
    else await this.deps.hub.toEveryone(message, {});
    this.deps.log.info({ operator: who.userId, session: sessionId ?? 'everyone' }, 'operator sent a notice');
    return { delivered_to: sessionId ? `session ${sessionId}` : 'every session' };
  }
}
