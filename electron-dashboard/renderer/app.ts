import type { MetricsAggregates, OperatorAlerts, OperatorStatus } from '../../protocol';
import type { ClusterState } from '../bridge';
import { type LocalAlert, evaluateAlerts } from './alert-rules';
import { renderAlerts } from './alerts-view';
import { ApiError, DashboardApi, explainRefusal } from './api';
import { LiveChart } from './charts';
import { fill, h } from './dom';
import { MetricsFeed } from './feed';
import { count, ms, perSecond } from './format';
import { History } from './history';
import { renderOverview } from './overview-view';
import { RelayStates, type RelayStatus } from './relay-states';
import { SessionsView } from './sessions-view';
import { type TokenStore, tokenStore } from './token-store';
import { applyTheme, toggleTheme } from './theme';

/**
 * The dashboard's renderer: the same page in a browser (the relay's `/dashboard/`) and in the
 * Electron shell. The token form first; then the live screens, fed by the operator subscription
 * (aggregates, about every second) and by polling the serving relay's status and the sessions
 * every second. Everything is redrawn each second, so ages and states move without new data.
 */

const SCREENS = ['overview', 'charts', 'sessions', 'alerts'] as const;
type Screen = (typeof SCREENS)[number];

const app = document.getElementById('app')!;
const store = tokenStore();
applyTheme();

void (async () => {
  const token = await store.load();
  if (token && (await tryToken(token)) === undefined) return start(token);
  showLogin();
})();

/** undefined when the relay accepts the token, else why not. */
async function tryToken(token: string): Promise<string | undefined> {
  try {
    await new DashboardApi(token).status();
    return undefined;
  } catch (error) {
    return explainRefusal(error);
  }
}

function showLogin(message?: string): void {
  const input = h('input', {
    attrs: { id: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'eyJhbGciOi…' },
  });
  const error = h('p', { class: 'warning', attrs: { id: 'token-error', role: 'alert' }, text: message ?? '' });
  const form = h(
    'form',
    { class: 'login panel', attrs: { id: 'login' } },
    h('h1', { text: 'Tandem relay dashboard' }),
    h('p', { class: 'muted', text: `Relay: ${location.origin}` }),
    h('label', { attrs: { for: 'token' }, text: 'Operator token' }),
    input,
    h('p', {
      class: 'muted',
      text: 'Mint one with: relay token --user ops --operator. It is kept for this tab only (or, in the desktop app, encrypted by the OS).',
    }),
    h('button', { class: 'primary', text: 'Open dashboard', attrs: { type: 'submit', id: 'sign-in' } }),
    error,
    store.chooseRelay
      ? h('button', { class: 'link', text: 'Another relay…', attrs: { type: 'button' }, onClick: () => store.chooseRelay?.() })
      : null,
    h('button', { class: 'link', text: 'Theme', attrs: { type: 'button', id: 'theme-toggle' }, onClick: () => toggleTheme() }),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = 'Paste an operator token first.';
      return;
    }
    error.textContent = 'Checking…';
    void tryToken(token).then(async (refusal) => {
      if (refusal) {
        error.textContent = refusal;
        return;
      }
      await store.save(token);
      start(token);
    });
  });
  fill(app, form);
  input.focus();
}

function start(token: string): void {
  new Dashboard(token, store).mount();
}

class Dashboard {
  private readonly api: DashboardApi;
  private readonly history = new History();
  private readonly relayStates = new RelayStates();
  private readonly alertSince = new Map<string, string>();
  private aggregates: MetricsAggregates | undefined;
  private status: OperatorStatus | undefined;
  private statusError: string | undefined;
  private promAlerts: OperatorAlerts | undefined;
  private promError: string | undefined;
  private relays: RelayStatus[] = [];
  private feedState: 'open' | 'closed' = 'closed';
  private screen: Screen = 'overview';
  private feed: MetricsFeed | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private tick = 0;
  private polling = false;
  private readonly screens: Record<Screen, HTMLElement>;
  private readonly charts: LiveChart[];
  private readonly sessions: SessionsView;
  private readonly header = h('div', { class: 'header-status', attrs: { id: 'header-status' } });
  private readonly nav = h('nav', {});

  constructor(
    private readonly token: string,
    private readonly store: TokenStore,
  ) {
    this.api = new DashboardApi(token);
    this.screens = Object.fromEntries(
      SCREENS.map((screen) => [screen, h('main', { class: `screen ${screen}`, attrs: { id: `screen-${screen}` } })]),
    ) as Record<Screen, HTMLElement>;
    const chart = (id: string, title: string, unit: string, prefix: string, format: (value: number) => string) =>
      new LiveChart({ id, title, unit, prefix, format }, this.history);
    const rate = (value: number) => (value < 10 ? value.toFixed(1) : String(Math.round(value)));
    this.charts = [
      chart('connections', 'Connections', 'count', 'conn:', (value) => (Number.isInteger(value) ? count(value) : value.toFixed(1))),
      chart('messages', 'Frames in by event type', 'per second', 'in:', rate),
      chart('messages-out', 'Frames out by event type', 'per second', 'out:', rate),
      chart('errors', 'Errors by code', 'per second', 'err:', rate),
      chart('edit-ack', 'Edit ack latency p50 / p95 / p99', 'ms', 'edit_ack:', (value) => ms(value)),
      chart('broadcast', 'Broadcast fan-out p50 / p95 / p99', 'ms', 'broadcast:', (value) => ms(value)),
      chart('rest', 'REST latency p50 / p95 / p99', 'ms', 'rest:', (value) => ms(value)),
      chart('redis-command', 'Redis command latency p50 / p95 / p99', 'ms', 'redis_command:', (value) => ms(value)),
      chart('redis', 'Redis PING p50 / p95 / p99', 'ms', 'redis:', (value) => ms(value)),
      chart('event-loop', 'Event-loop lag p50 / p95 / p99', 'ms', 'lag:', (value) => ms(value)),
      chart('ai-answers', 'AI answers by model', 'per minute', 'ai:', rate),
      chart('ai-ttft', 'AI time to first token p95 by model', 'ms', 'ttft:', (value) => ms(value)),
      chart('ai-tps', 'AI tokens per second p50 by model', 'tokens/s', 'tps:', rate),
      chart('feedback', 'Feedback in the window and average rating', 'count / stars', 'fb:', rate),
    ];
    fill(
      this.screens.charts,
      h('p', {
        class: 'muted',
        text:
          'The last 15 minutes; each point is the rolling window’s figures at that second. ' +
          'Drag to zoom, double-click or Live to follow again.',
      }),
      h('div', { class: 'chart-grid' }, ...this.charts.map((c) => c.element)),
    );
    this.sessions = new SessionsView(this.screens.sessions, this.api);
  }

  mount(): void {
    const themeButton = h('button', { class: 'link', text: 'Theme', attrs: { id: 'theme-toggle' }, onClick: () => this.switchTheme() });
    const signOut = h('button', { class: 'link', text: 'Sign out', attrs: { id: 'sign-out' }, onClick: () => void this.signOut() });
    fill(
      app,
      h('header', { class: 'top' }, h('h1', { text: 'Tandem relays' }), this.nav, this.header, themeButton, signOut),
      ...SCREENS.map((screen) => this.screens[screen]),
    );
    this.show('overview');
    this.feed = new MetricsFeed(this.token, {
      metrics: (aggregates) => this.onMetrics(aggregates),
      connection: (state) => (this.feedState = state),
    });
    this.feed.start();
    // The first figures at once (the subscription's first frame may take a moment), then every second.
    void this.api.metrics().then(
      (aggregates) => this.onMetrics(aggregates),
      () => undefined,
    );
    void this.poll();
    this.timer = setInterval(() => void this.poll(), 1000);
  }

  private show(screen: Screen): void {
    this.screen = screen;
    for (const name of SCREENS) this.screens[name].hidden = name !== screen;
    if (screen === 'charts') for (const c of this.charts) c.rebuild();
    this.renderNav();
  }

  private renderNav(alerts?: number): void {
    fill(
      this.nav,
      ...SCREENS.map((screen) =>
        h(
          'button',
          {
            class: screen === this.screen ? 'tab active' : 'tab',
            attrs: { 'data-screen': screen, id: `tab-${screen}` },
            onClick: () => this.show(screen),
          },
          screen[0]!.toUpperCase() + screen.slice(1),
          screen === 'alerts' && alerts ? h('span', { class: 'badge down', attrs: { id: 'firing-count' }, text: String(alerts) }) : null,
        ),
      ),
    );
  }

  private onMetrics(aggregates: MetricsAggregates): void {
    if (this.aggregates && aggregates.generated_at <= this.aggregates.generated_at) return;
    this.aggregates = aggregates;
    const window = Math.max(1, aggregates.window_s);
    const values: Record<string, number | null> = { 'conn:cluster': aggregates.cluster.connections };
    for (const relay of aggregates.relays) values[`conn:${relay.relay_id}`] = relay.connections;
    for (const [type, n] of Object.entries(aggregates.cluster.messages_in)) values[`in:${type}`] = n / window;
    for (const [type, n] of Object.entries(aggregates.cluster.messages_out)) values[`out:${type}`] = n / window;
    for (const [code, n] of Object.entries(aggregates.cluster.errors)) values[`err:${code}`] = n / window;
    for (const [path, percentiles] of Object.entries(aggregates.cluster.latency_ms)) {
      for (const p of ['p50', 'p95', 'p99'] as const) values[`${path}:${p}`] = percentiles[p];
    }
    for (const p of ['p50', 'p95', 'p99'] as const) {
      values[`lag:${p}`] = aggregates.cluster.event_loop_lag_ms[p];
      values[`redis:${p}`] = aggregates.cluster.redis_latency_ms[p];
    }
    for (const model of aggregates.models) {
      values[`ai:${model.model}`] = (model.answers / window) * 60;
      values[`ttft:${model.model}`] = model.time_to_first_token_ms.p95;
      values[`tps:${model.model}`] = model.tokens_per_second.p50;
    }
    values['fb:count'] = aggregates.feedback.count;
    values['fb:average rating'] = aggregates.feedback.average_rating;
    this.history.push(Date.parse(aggregates.generated_at), values);
    if (this.screen === 'charts') for (const c of this.charts) c.update();
    else for (const c of this.charts) c.element.setAttribute('data-points', String(this.history.times.length));
    this.render();
  }

  private async poll(): Promise<void> {
    this.tick++;
    this.render();
    if (this.polling) return;
    this.polling = true;
    try {
      await Promise.all([
        this.api.status().then(
          (status) => ((this.status = status), (this.statusError = undefined)),
          (error: unknown) => this.refused(error, (message) => (this.statusError = message)),
        ),
        this.api.sessions().then(
          (sessions) => this.sessions.render(sessions),
          (error: unknown) => this.refused(error, () => undefined),
        ),
        this.status?.alerts_source === 'prometheus' && this.tick % 5 === 1
          ? this.api.alerts().then(
              (alerts) => ((this.promAlerts = alerts), (this.promError = undefined)),
              (error: unknown) => this.refused(error, (message) => (this.promError = message)),
            )
          : undefined,
      ]);
    } finally {
      this.polling = false;
    }
    this.render();
  }

  /** A token that stopped working (expired, secret rotated) goes back to the form; anything else is shown. */
  private refused(error: unknown, show: (message: string) => void): void {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
      this.stop();
      void this.store.clear();
      showLogin(explainRefusal(error));
      return;
    }
    show(error instanceof ApiError && error.status === 0 ? `${location.host} does not answer` : (error as Error).message);
  }

  private render(): void {
    const now = Date.now();
    const redisDown = this.status?.redis.status === 'down';
    this.relays = this.aggregates ? this.relayStates.update(this.aggregates, now) : [];
    // While Redis is down no relay's samples get through: silence then says nothing about the relay itself.
    if (redisDown) {
      this.relays = this.relays.map((relay) =>
        relay.state === 'down' ? { ...relay, state: 'degraded', reasons: ['no samples while Redis is down'] } : relay,
      );
    }
    const local = evaluateAlerts(
      {
        aggregates: this.aggregates,
        status: this.status,
        relays: this.relays,
        connectionsFiveMinutesAgo: this.history.valueAt('conn:cluster', now - 5 * 60_000),
      },
      this.alertSince,
      now,
    );
    const prometheus = this.status?.alerts_source === 'prometheus';
    const alerts: Array<LocalAlert | OperatorAlerts['alerts'][number]> = prometheus ? (this.promAlerts?.alerts ?? []) : local;
    renderAlerts(
      this.screens.alerts,
      alerts,
      prometheus
        ? 'From Prometheus (PROMETHEUS_URL), refreshed every 5 s.'
        : 'Computed here from the live aggregates with the alert rules’ thresholds (no PROMETHEUS_URL).',
      this.promError,
    );
    const firing = alerts.filter((alert) => alert.state === 'firing');
    this.renderNav(firing.length);
    renderOverview(this.screens.overview, this.relays, this.aggregates, this.status, firing);
    const state: ClusterState =
      this.relays.length === 0
        ? 'unknown'
        : this.relays.some((r) => r.state === 'down') || redisDown
          ? 'down'
          : this.relays.some((r) => r.state === 'degraded')
            ? 'degraded'
            : 'up';
    this.store.reportState(state);
    const age = this.aggregates ? Math.max(0, Math.round((now - Date.parse(this.aggregates.generated_at)) / 1000)) : undefined;
    fill(
      this.header,
      h('span', { class: `badge ${state === 'unknown' ? 'idle' : state}`, attrs: { id: 'cluster-state' }, text: `cluster ${state}` }),
      h('span', {
        class: 'muted',
        text: [
          ` via ${this.status?.relay_id ?? location.host}`,
          `live feed ${this.feedState}`,
          age === undefined ? 'no figures yet' : `figures ${age} s old`,
          `${perSecond(this.aggregates?.cluster.messages_in_per_s)} in`,
        ].join(' · '),
      }),
      this.statusError ? h('span', { class: 'warning', text: ` · ${this.statusError}` }) : null,
    );
  }

  private switchTheme(): void {
    toggleTheme();
    if (this.screen === 'charts') for (const c of this.charts) c.rebuild();
  }

  private stop(): void {
    clearInterval(this.timer);
    this.feed?.stop();
  }

  private async signOut(): Promise<void> {
    this.stop();
    await this.store.clear();
    showLogin();
  }
}
