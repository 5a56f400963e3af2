import type { IncomingMessage } from 'node:http';
import { ProtocolError } from '../../protocol';
import { ConnectionRateLimiter } from '../gateway/connection-rate';
import { clientAddress } from '../gateway/upgrade';

export interface RequestLimitSettings {
  perIpPerMinute: number;
  perUserPerMinute: number;
  trustProxy: boolean;
}

/**
 * Budgets for the REST calls that create something or can be used to guess (sessions, invite
 * redemption, notifications): per client address, so one machine cannot hammer them, and per
 * user, so one stolen personal token cannot either. Fixed one-minute windows, like the
 * gateway's connection limit (whose counter this reuses). Exceeding one is API_RATE_LIMITED.
 */
export class RequestLimits {
  private readonly byAddress: ConnectionRateLimiter;
  private readonly byUser: ConnectionRateLimiter;

  constructor(private readonly settings: RequestLimitSettings) {
    this.byAddress = new ConnectionRateLimiter(settings.perIpPerMinute);
    this.byUser = new ConnectionRateLimiter(settings.perUserPerMinute);
  }

  /** Counts one request from the request's client address. */
  checkAddress(request: IncomingMessage): void {
    if (!this.byAddress.allow(clientAddress(request, this.settings.trustProxy))) {
      throw new ProtocolError('API_RATE_LIMITED', `more than ${this.settings.perIpPerMinute} requests from this address in a minute`);
    }
  }

  /** Counts one request by a user the token proved. */
  checkUser(userId: string): void {
    if (!this.byUser.allow(userId)) {
      throw new ProtocolError('API_RATE_LIMITED', `more than ${this.settings.perUserPerMinute} requests by this user in a minute`);
    }
  }
}
