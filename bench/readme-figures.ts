/**
 * `npm run bench:readme`: the README's "Latest figures" table, written from the JSON reports in
 * bench-results/ (every bench writes one: report.ts `writeBenchReport`), so that the table is
 * always what one run printed, never a figure copied by hand. `npm run bench` ends with it.
 *
 * What it takes from each report: the target checks (`targets`: measured, goal, verdict) of the
 * broadcast, OT, scale-out and Redis-floor benches; per setup the largest sustained size of the
 * many-sessions bench (`results`); the soak's totals, growth after warm-up and lost-or-doubled
 * findings. A bench with no report in bench-results/ keeps the rows the table has for it (its last
 * run, e.g. a 30-minute soak not repeated with every `npm run bench`); each row names its run. The
 * section between the two markers is replaced; nothing else in the README changes.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const START_MARKER = '<!-- bench-figures:start (written by npm run bench:readme from bench-results/*.json; do not edit) -->';
export const END_MARKER = '<!-- bench-figures:end -->';

/** The parts of a bench report (bench-results/<name>.json) read here; anything else is ignored. */
export interface BenchReport {
  bench: string;
  date: string;
  machine?: { cpus?: number; node?: string };
  targets?: Array<{ name: string; measured?: number; bound?: number; direction?: string; met?: boolean; detail?: string }>;
  results?: Array<{
    setup: string;
    sessions: number;
    participants: number;
    offeredKeysPerSecond: number;
    p99Ms?: number;
    serverCpuUsPerKeystroke: number;
    sustained: boolean;
    findings: number;
  }>;
  totals?: { keystrokes: number; reconnects: number; chats: number };
  /** Shares (0.1 = +10 %); absent or null where there were too few samples. */
  growthAfterWarmup?: { relayRss: Array<number | null>; redisUsedMemory?: number | null };
  findings?: unknown[];
}

const ORDER = ['relay-broadcast', 'ot', 'scaleout', 'redis-floor', 'sessions', 'soak'];

/**
 * The Markdown between the markers, for these reports (in a fixed order of benches); `previous`
 * (the section as it stands) gives the rows of the benches that have no report here.
 */
export function renderFigures(reports: readonly BenchReport[], previous = ''): string {
  const sorted = [...reports].sort((a, b) => rank(ORDER, a.bench) - rank(ORDER, b.bench) || a.bench.localeCompare(b.bench));
  const reported = new Set(reports.map((report) => report.bench));
  const kept = keptRows(previous).filter((row) => !reported.has(row.bench));
  const rows: string[][] = [];
  for (const report of sorted) {
    const run = `${report.bench}, ${report.date.slice(0, 10)}`;
    for (const target of report.targets ?? []) {
      const goal = target.bound === undefined ? '' : `${target.direction ?? ''} ${number(target.bound)}`.trim();
      const verdict = target.bound === undefined ? 'info' : target.met === undefined ? 'n/a' : target.met ? 'met' : 'missed';
      rows.push([run, target.name, target.measured === undefined ? '-' : number(target.measured), goal, verdict]);
    }
    for (const [setup, largest] of largestSustained(report.results ?? [])) {
      rows.push([
        run,
        `${setup}: most sessions sustained (participants), keys/s, p99, CPU per key`,
        largest ? sizeFigures(largest) : 'none of the sizes tried',
        '',
        'info',
      ]);
    }
    if (report.totals && report.growthAfterWarmup) {
      const { totals, growthAfterWarmup: growth } = report;
      const lost = report.findings?.length ?? 0;
      rows.push([
        run,
        'soak: keystrokes, dropped connections, chat messages; lost or doubled',
        `${totals.keystrokes}, ${totals.reconnects}, ${totals.chats}; ${lost}`,
        '= 0',
        lost === 0 ? 'met' : 'missed',
      ]);
      const shares = [...growth.relayRss, growth.redisUsedMemory].map((v) => (typeof v === 'number' ? v : undefined));
      const known = shares.filter((v): v is number => v !== undefined);
      rows.push([
        run,
        'soak: growth after warm-up (relays RSS, Redis memory)',
        shares.map(percent).join(', '),
        '< 10 %',
        known.length < shares.length ? 'n/a' : Math.max(...known) < 0.1 ? 'met' : 'missed',
      ]);
    }
  }
  if (rows.length === 0 && kept.length === 0)
    return 'No bench report yet: run `npm run bench` (or one of its parts), then `npm run bench:readme`.';
  const machine = sorted.find((r) => r.machine)?.machine;
  const where = machine ? ` (${machine.cpus ?? '?'} cores, Node ${machine.node ?? '?'})` : '';
  const lines = [
    ...rows.map((row) => ({ bench: row[0]!.slice(0, row[0]!.indexOf(',')), line: `| ${row.map(cell).join(' | ')} |` })),
    ...kept,
  ]
    .map((row, i) => ({ ...row, i }))
    .sort((a, b) => rank(ORDER, a.bench) - rank(ORDER, b.bench) || a.i - b.i)
    .map((row) => row.line);
  return [
    `From the JSON of the last run of each bench${where}; ratios are relay / baseline where a target names one.`,
    '',
    '| run | figure | measured | goal | verdict |',
    '| --- | --- | --- | --- | --- |',
    ...lines,
  ].join('\n');
}

/** The rows of a section this script wrote, each with the bench its run names (`| <bench>, <date> | ...`). */
function keptRows(section: string): Array<{ bench: string; line: string }> {
  const rows: Array<{ bench: string; line: string }> = [];
  for (const line of section.split('\n')) {
    const run = /^\| ([\w-]+), \d{4}-\d{2}-\d{2} \|/.exec(line);
    if (run) rows.push({ bench: run[1]!, line });
  }
  return rows;
}

/** The section between the markers as it stands ('' if there is none). */
export function currentSection(readme: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  return start < 0 || end < start ? '' : readme.slice(start + START_MARKER.length, end);
}

/** `readme` with the section between the markers replaced by `figures`; throws if a marker is missing. */
export function replaceSection(readme: string, figures: string): string {
  const start = readme.indexOf(START_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (start < 0 || end < start) throw new Error(`the README has no "${START_MARKER}" ... "${END_MARKER}" section`);
  return `${readme.slice(0, start + START_MARKER.length)}\n${figures}\n${readme.slice(end)}`;
}

/** Reads every report in `dir` (skipping files that are not one). */
export function readReports(dir: string): BenchReport[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const reports: BenchReport[] = [];
  for (const name of names) {
    try {
      const report = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<BenchReport>;
      if (typeof report.bench === 'string' && typeof report.date === 'string') reports.push(report as BenchReport);
    } catch {
      process.stderr.write(`bench:readme: ${name} is not a bench report; skipped\n`);
    }
  }
  return reports;
}

function largestSustained(results: NonNullable<BenchReport['results']>): Map<string, (typeof results)[number] | undefined> {
  const out = new Map<string, (typeof results)[number] | undefined>();
  for (const result of results) {
    const best = out.get(result.setup);
    const ok = result.sustained && result.findings === 0;
    if (!out.has(result.setup)) out.set(result.setup, undefined);
    if (ok && (!best || result.sessions > best.sessions)) out.set(result.setup, result);
  }
  return out;
}

function sizeFigures(size: NonNullable<BenchReport['results']>[number]): string {
  const { sessions, participants, offeredKeysPerSecond, p99Ms, serverCpuUsPerKeystroke } = size;
  const rate = Math.round(offeredKeysPerSecond);
  return `${sessions} (${participants}), ${rate}/s, ${number(p99Ms)} ms, ${Math.round(serverCpuUsPerKeystroke)} µs`;
}

function rank(order: readonly string[], bench: string): number {
  const i = order.indexOf(bench);
  return i < 0 ? order.length : i;
}

function number(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '-';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

function percent(share: number | undefined): string {
  return share === undefined ? '-' : `${share >= 0 ? '+' : ''}${(share * 100).toFixed(1)} %`;
}

/** A table cell: no pipe or line break can break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

if (require.main === module) {
  const root = resolve(__dirname, '..');
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const figures = renderFigures(readReports(join(root, 'bench-results')), currentSection(readme));
  writeFileSync(readmePath, replaceSection(readme, figures));
  process.stdout.write(`README.md: the latest figures written from bench-results/\n`);
}
