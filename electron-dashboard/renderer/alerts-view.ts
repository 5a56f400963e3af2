import type { AlertStatus } from '../../protocol';
import { fill, h } from './dom';
import { duration } from './format';

/** The alerts panel: firing first, then pending, then the quiet rules (and those that need Prometheus). */
export function renderAlerts(
  root: HTMLElement,
  alerts: Array<AlertStatus & { evaluated?: boolean }>,
  source: string,
  error?: string,
): void {
  const now = Date.now();
  fill(
    root,
    h('p', { class: 'muted', text: source }),
    error ? h('p', { class: 'warning', text: error }) : null,
    h(
      'ul',
      { class: 'alert-list' },
      ...alerts.map((alert) =>
        h(
          'li',
          {
            class: `alert ${alert.state}${alert.evaluated === false ? ' unevaluated' : ''}`,
            attrs: { 'data-alert': alert.name, 'data-state': alert.state },
          },
          h('span', {
            class: `badge ${alert.state === 'firing' ? 'down' : alert.state === 'pending' ? 'degraded' : 'idle'}`,
            text: alert.state,
          }),
          h('strong', { text: alert.name }),
          Object.keys(alert.labels).length > 0
            ? h('span', {
                class: 'mono',
                text: Object.entries(alert.labels)
                  .map(([k, v]) => `${k}=${v}`)
                  .join(' '),
              })
            : null,
          alert.active_at ? h('span', { class: 'muted', text: `for ${duration((now - Date.parse(alert.active_at)) / 1000)}` }) : null,
          h('div', { class: 'muted summary', text: `${alert.severity} · ${alert.summary}` }),
        ),
      ),
    ),
  );
}
