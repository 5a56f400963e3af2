import { monotonicMs } from '../clock';
import { LoadgenProcess } from '../processes';
import { type LatencySummary, summarize } from '../report';
import { type BenchContext, sessionToken, startCluster, TARGETS } from './cluster';
import { startNginx } from './nginx';
import type { FromReconnectLoadgen, ReconnectClient, ToReconnectLoadgen } from './reconnect-ipc';

/**
 * Reconnect after a relay dies: two relays on one Redis behind nginx, 1,000 clients (the
 * extension's RelayClient settings) in sessions of 10 through nginx, then SIGKILL of the relay
 * holding more of them. Measured from the kill until each dropped client has the surviving
 * relay's `connect` frame again, through nginx as in production (it retries a refused connection
 * on the next relay); the client's backoff (full jitter, first delay up to 500 ms) is part of it.
 */

export interface ReconnectConfig {
  clients: number;
  sessionSize: number;
  /** After the last client came back, how long no other may drop before the answer. */
  settleMs: number;
  timeoutMs: number;
}

export interface ReconnectFigures {
  clients: number;
  connectSeconds: number;
  /** Clients per relay before the kill (nginx's round robin). */
  perRelay: Record<string, number>;
  killedRelay: string;
  lost: number;
  back: number;
  /** From the kill until every dropped client was connected again. */
  allBackMs: number | undefined;
  /** Per client: kill -> `connect` again; kill -> close seen; close seen -> `connect` again. */
  reconnectMs: LatencySummary | undefined;
  closeSeenMs: LatencySummary | undefined;
  closeToConnectMs: LatencySummary | undefined;
  attemptsMean: number | undefined;
  attemptsMax: number | undefined;
  backPerRelay: Record<string, number>;
}

type ReconnectLoadgen = LoadgenProcess<ToReconnectLoadgen, FromReconnectLoadgen>;

export async function reconnect(
  context: BenchContext,
  bundle: string,
  config: ReconnectConfig,
  log: (line: string) => void,
): Promise<ReconnectFigures> {
  // WS_HEARTBEAT_INTERVAL_MS as deployed; TRUST_PROXY as `relay deploy` sets it behind nginx.
  const cluster = await startCluster(context, TARGETS['relay-x2'], { TRUST_PROXY: 'true' });
  const loadgen: ReconnectLoadgen = new LoadgenProcess(bundle, 'reconnect-loadgen');
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    nginx = await startNginx(cluster.servers.map((s) => new URL(s.url).host));
    const clients: ReconnectClient[] = [];
    for (let i = 0; i < config.clients; i++) {
      const session = `reconnect-${Math.floor(i / config.sessionSize)}`;
      clients.push({ token: sessionToken(context, `user-${i}`, [session]), session });
    }
    const connected = await loadgen.request(
      { type: 'connect', url: nginx.url, clients, concurrency: 100, timeoutMs: 60_000 },
      'connected',
      65_000,
    );
    if (connected.failed > 0) throw new Error(`reconnect: ${connected.failed} clients failed to connect: ${connected.firstError}`);
    // The joins' presence events are over; then a quiet machine, as for every other run.
    await new Promise((r) => setTimeout(r, 1000));
    await context.quiet.wait([...cluster.pids, loadgen.pid]);
    // The relay with more clients goes (by RELAY_ID, which is the server's launch name).
    const victimIndex = cluster.servers.reduce(
      (best, s, i) => ((connected.perRelay[s.name] ?? 0) > (connected.perRelay[cluster.servers[best]!.name] ?? 0) ? i : best),
      0,
    );
    const victim = cluster.servers[victimIndex]!;
    await loadgen.request({ type: 'arm' }, 'armed', 5000);
    const killedAt = monotonicMs();
    process.kill(victim.pid, 'SIGKILL');
    const collected = await loadgen.request(
      { type: 'collect', killedAt, settleMs: config.settleMs, timeoutMs: config.timeoutMs },
      'collected',
      config.timeoutMs + 5000,
    );
    const attempts = collected.attempts;
    const figures: ReconnectFigures = {
      clients: connected.clients,
      connectSeconds: connected.elapsedMs / 1000,
      perRelay: connected.perRelay,
      killedRelay: victim.name,
      lost: collected.lost,
      back: collected.back,
      allBackMs: collected.back === collected.lost && collected.back > 0 ? Math.max(...collected.reconnectedAfterMs) : undefined,
      reconnectMs: summarize(collected.reconnectedAfterMs),
      closeSeenMs: summarize(collected.closedAfterMs),
      closeToConnectMs: summarize(collected.reconnectedAfterMs.map((t, i) => t - collected.closedAfterMs[i]!)),
      attemptsMean: attempts.length ? attempts.reduce((a, b) => a + b, 0) / attempts.length : undefined,
      attemptsMax: attempts.length ? Math.max(...attempts) : undefined,
      backPerRelay: collected.backPerRelay,
    };
    log(
      `  reconnect: ${figures.clients} clients (${Object.entries(figures.perRelay)
        .map(([r, n]) => `${r} ${n}`)
        .join(', ')}), killed ${victim.name}: ` +
        `${figures.back}/${figures.lost} back, all in ${figures.allBackMs?.toFixed(0) ?? '-'} ms; per client p50/p99 ` +
        `${figures.reconnectMs?.p50.toFixed(0) ?? '-'}/${figures.reconnectMs?.p99.toFixed(0) ?? '-'} ms`,
    );
    return figures;
  } finally {
    await loadgen.stop();
    await nginx?.stop();
    await cluster.stop();
  }
}
