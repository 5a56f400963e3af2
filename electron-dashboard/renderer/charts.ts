import uPlot from 'uplot';
import { h } from './dom';
import type { History } from './history';

/**
 * One live chart (uPlot) over the dashboard's history: the series whose names start with
 * `prefix`, redrawn on each point. Drag to zoom in (the chart then stays where it is), double-click
 * or "Live" to follow the last 15 minutes again. A series that appears later rebuilds the chart.
 */

const PALETTE = ['#3b82f6', '#f97316', '#10b981', '#e11d48', '#a855f7', '#eab308', '#06b6d4', '#64748b', '#84cc16', '#ec4899'];

export class LiveChart {
  readonly element: HTMLElement;
  private readonly body: HTMLElement;
  private plot: uPlot | undefined;
  private names: string[] = [];
  private zoomed = false;

  constructor(
    private readonly options: { id: string; title: string; unit: string; prefix: string; format: (value: number) => string },
    private readonly history: History,
  ) {
    this.body = h('div', { class: 'chart-body' });
    const live = h('button', { class: 'link', text: 'Live', title: 'Follow the last 15 minutes again', onClick: () => this.follow() });
    this.element = h(
      'section',
      { class: 'chart', attrs: { id: `chart-${options.id}`, 'data-points': '0' } },
      h('header', {}, h('h3', { text: `${options.title} (${options.unit})` }), live),
      this.body,
    );
  }

  /** Redraws with the history's points. */
  update(): void {
    const names = this.history.names().filter((name) => name.startsWith(this.options.prefix));
    if (!this.plot || names.join('\n') !== this.names.join('\n')) this.build(names);
    const data = [this.history.times.map((t) => t / 1000), ...names.map((name) => this.history.values(name))] as uPlot.AlignedData;
    this.plot!.setData(data, !this.zoomed);
    this.element.setAttribute('data-points', String(this.history.times.length));
  }

  /** Rebuilds with the current theme's colours (after a theme change or a resize). */
  rebuild(): void {
    this.build(this.names);
    this.update();
  }

  private follow(): void {
    this.zoomed = false;
    this.update();
  }

  private build(names: string[]): void {
    this.plot?.destroy();
    this.names = names;
    const style = getComputedStyle(document.documentElement);
    const ink = style.getPropertyValue('--muted').trim() || '#888';
    const grid = style.getPropertyValue('--grid').trim() || 'rgba(128,128,128,0.2)';
    const format = this.options.format;
    const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    this.plot = new uPlot(
      {
        width: Math.max(280, this.body.clientWidth || 360),
        height: 170,
        legend: { show: true, live: true },
        cursor: { drag: { x: true, y: false } },
        scales: { x: { time: true } },
        axes: [axis, { ...axis, size: 64, values: (_u, values) => values.map((value) => format(value)) }],
        series: [
          {},
          ...names.map((name, index) => ({
            label: name.slice(this.options.prefix.length) || this.options.title,
            stroke: PALETTE[index % PALETTE.length]!,
            width: 1.5,
            spanGaps: false,
            value: (_u: uPlot, value: number | null) => (value === null ? '–' : format(value)),
          })),
        ],
        hooks: {
          setSelect: [() => (this.zoomed = true)],
          ready: [(u) => u.over.addEventListener('dblclick', () => (this.zoomed = false))],
        },
      },
      [[], ...names.map(() => [])] as unknown as uPlot.AlignedData,
      this.body,
    );
  }
}
