import type { AlertStatus, MetricsAggregates, OperatorStatus } from '../../protocol';
import { fill, h, table } from './dom';
import { bytes, count, duration, ms, percent, perSecond, ratio } from './format';
import type { RelayStatus } from './relay-states';

/** The cluster overview: each relay's state and figures, Redis and the streams, the totals. */
export function renderOverview(
  root: HTMLElement,
  relays: RelayStatus[],
  aggregates: MetricsAggregates | undefined,
  status: OperatorStatus | undefined,
  firing: AlertStatus[],
): void {
  const relayRows = relays.map((relay) => {
    const row = relay.row;
    return {
      props: { attrs: { 'data-relay': relay.relay_id, 'data-state': relay.state }, class: `relay ${relay.state}` },
      cells: [
        h('span', { class: 'mono', text: relay.relay_id }),
        h('span', { class: `badge ${relay.state}`, text: relay.state, title: relay.reasons.join('; ') || 'sending samples' }),
        row ? duration(row.uptime_s) : '–',
        h('span', { class: 'num', attrs: { 'data-field': 'connections' }, text: row ? count(row.connections) : '–' }),
        row ? count(row.sessions) : '–',
        row ? percent(row.cpu_percent) : '–',
        row ? bytes(row.memory_rss_bytes) : '–',
        row ? ms(row.event_loop_lag_ms.p99) : '–',
        relay.state === 'down' ? `${relay.silent_s} s ago` : row ? perSecond(row.messages_in_per_s) : '–',
      ],
    };
  });
  const cluster = aggregates?.cluster;
  const redis = status?.redis;
  const totals = h(
    'div',
    { class: 'cards' },
    card('Relays', `${relays.filter((r) => r.state !== 'down').length} of ${relays.length} up`, 'relays-up'),
    card('Connections', count(cluster?.connections), 'total-connections'),
    card('Sessions', count(cluster?.sessions), 'total-sessions'),
    card('Documents', count(cluster?.documents), 'total-documents'),
    card('Frames in', perSecond(cluster?.messages_in_per_s), 'total-in'),
    card('Frames out', perSecond(cluster?.messages_out_per_s), 'total-out'),
    card('Errors', perSecond(cluster?.errors_per_s), 'total-errors', `${ratio(cluster?.error_ratio)} of frames in`),
    card('Memory (RSS)', bytes(cluster?.memory_rss_bytes), 'total-memory'),
  );
  const redisState = redis?.status ?? 'unknown';
  const redisCard = h(
    'section',
    { class: 'panel', attrs: { id: 'redis' } },
    h(
      'h2',
      {},
      'Redis ',
      h('span', {
        class: `badge ${redisState === 'up' ? 'up' : redisState === 'down' ? 'down' : 'idle'}`,
        attrs: { id: 'redis-state' },
        text: redisState.replace('_', ' '),
      }),
    ),
    h(
      'p',
      { class: 'muted' },
      redis?.status === 'not_configured'
        ? 'No REDIS_URL: one relay with its embedded in-memory bus and storage.'
        : [
            `Latency ${ms(redis?.latency_ms)} (PING from ${status?.relay_id ?? '–'})`,
            `p99 over the window ${ms(cluster?.redis_latency_ms.p99)}`,
            `memory ${bytes(redis?.memory_used_bytes)}`,
          ].join(' · '),
    ),
    redis?.detail ? h('p', { class: 'warning', text: redis.detail }) : null,
    table(
      ['Stream', 'Length', 'Group', 'Consumers with pending', 'Pending', 'Lag'],
      (status?.streams ?? []).map((stream) => ({
        cells: [
          stream.stream,
          `${count(stream.length)} entries`,
          stream.groups[0]?.name ?? 'no group',
          count(stream.groups[0]?.consumers),
          `${count(stream.groups[0]?.pending)} entries`,
          stream.groups[0]?.lag === null ? 'unknown' : `${count(stream.groups[0]?.lag)} entries`,
        ],
      })),
    ),
  );
  const alerts = h(
    'section',
    { class: 'panel', attrs: { id: 'overview-alerts' } },
    h('h2', { text: firing.length === 0 ? 'No alert firing' : `${firing.length} alert${firing.length === 1 ? '' : 's'} firing` }),
    ...firing.map((alert) =>
      h(
        'p',
        {},
        h('span', { class: 'badge down', text: 'firing' }),
        h('strong', { text: alert.name }),
        ` ${Object.values(alert.labels).join(' ')} · ${alert.summary}`,
      ),
    ),
  );
  fill(
    root,
    totals,
    alerts,
    h(
      'section',
      { class: 'panel' },
      h('h2', { text: 'Relays' }),
      table(
        ['Relay', 'State', 'Uptime', 'Connections', 'Sessions', 'CPU', 'Memory (RSS)', 'Event-loop lag p99', 'Frames in / last seen'],
        relayRows,
        {
          attrs: { id: 'relays-table' },
        },
      ),
    ),
    redisCard,
  );
}

function card(label: string, value: string, id: string, note?: string): HTMLElement {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'label', text: label }),
    h('div', { class: 'value', attrs: { id }, text: value }),
    note ? h('div', { class: 'label', text: note }) : null,
  );
}
