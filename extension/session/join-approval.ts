import { type PendingJoin, type RedeemedInvite, relayApi } from './relay-api';

/** How often a waiting guest asks whether the host has answered (the README says every second or two). */
const POLL_MS = 1500;

/**
 * A guest waiting for the host to admit them (an invite with `approval`): asks the relay until the
 * host answers. Resolves with the session token once approved, or undefined when `signal` aborts
 * (the guest gave up); rejects with the relay's JOIN_DENIED or JOIN_REQUEST_EXPIRED.
 */
export async function waitForApproval(
  relayUrl: string,
  pending: PendingJoin,
  signal: AbortSignal,
  pollMs = POLL_MS,
): Promise<RedeemedInvite | undefined> {
  while (!signal.aborted) {
    const answer = await relayApi.joinRequest(relayUrl, pending.request_id, pending.request_token);
    if (answer.status === 'approved') return answer;
    await pause(pollMs, signal);
  }
  return undefined;
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export function isPending(redeemed: RedeemedInvite | PendingJoin): redeemed is PendingJoin {
  return (redeemed as PendingJoin).status === 'pending';
}
