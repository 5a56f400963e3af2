import type { z } from 'zod';
import { ClusterSessions, MetricsAggregates, OperatorAlerts, type OperatorNotice, OperatorStatus } from '../../protocol';

/** The relay's operator REST calls, same origin, with the operator token; answers checked against the protocol's schemas. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class DashboardApi {
  constructor(
    private readonly token: string,
    private readonly base = '',
  ) {}

  status(): Promise<OperatorStatus> {
    return this.call('GET', '/api/operator/status', OperatorStatus);
  }

  metrics(): Promise<MetricsAggregates> {
    return this.call('GET', '/api/metrics', MetricsAggregates);
  }

  sessions(): Promise<ClusterSessions> {
    return this.call('GET', '/api/operator/sessions', ClusterSessions);
  }

  alerts(): Promise<OperatorAlerts> {
    return this.call('GET', '/api/operator/alerts', OperatorAlerts);
  }

  async notice(notice: OperatorNotice): Promise<void> {
    await this.call('POST', '/api/operator/notices', undefined, notice);
  }

  async endSession(sessionId: string): Promise<void> {
    await this.call('DELETE', `/api/operator/sessions/${encodeURIComponent(sessionId)}`, undefined);
  }

  private async call<T>(method: string, path: string, schema: z.ZodType<T> | undefined, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.base + path, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
        ...(body !== undefined && { body: JSON.stringify(body) }),
        cache: 'no-store',
      });
    } catch {
      throw new ApiError(0, 'UNREACHABLE', 'the relay does not answer');
    }
    const json: unknown = await response.json().catch(() => undefined);
    if (!response.ok) {
      const error = (json ?? {}) as { code?: string; message?: string };
      throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? response.statusText);
    }
    return schema ? schema.parse(json) : (json as T);
  }
}

/** What the token form says about a refused token. */
export function explainRefusal(error: unknown): string {
  if (!(error instanceof ApiError)) return `The relay could not be asked: ${(error as Error).message}`;
  if (error.status === 401) {
    return `The relay refused this token (${error.code}: ${error.message}). Mint one with: relay token --user ops --operator`;
  }
  if (error.status === 403) return `This token is not an operator's (${error.code}). Mint one with: relay token --user ops --operator`;
  if (error.status === 0) return 'The relay does not answer.';
  return `The relay answered ${error.status} ${error.code}: ${error.message}`;
}
