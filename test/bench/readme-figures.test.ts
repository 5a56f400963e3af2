import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type BenchReport,
  currentSection,
  END_MARKER,
  readReports,
  renderFigures,
  replaceSection,
  START_MARKER,
} from '../../bench/readme-figures';

const ot: BenchReport = {
  bench: 'ot',
  date: '2026-12-06T10:00:00.000Z',
  machine: { cpus: 2, node: 'v20.20.2' },
  targets: [
    { name: 'acked keystrokes/s, relay / ShareDB', measured: 7.53, bound: 2, direction: '>=', met: true },
    { name: 'p99 / ShareDB | 10 editors', measured: 1.29, bound: 0.5, direction: '<=', met: false },
    { name: 'server CPU per commit, µs', measured: 100.4 },
    { name: 'remote p99, 10 editors, relay on Redis/floor', measured: 1.42, bound: 1.5, direction: '<=', met: true },
  ],
};
const sessions: BenchReport = {
  bench: 'sessions',
  date: '2026-12-06T11:00:00.000Z',
  results: [
    {
      setup: 'memory',
      sessions: 25,
      participants: 100,
      offeredKeysPerSecond: 499,
      p99Ms: 9.5,
      serverCpuUsPerKeystroke: 232,
      sustained: true,
      findings: 0,
    },
    {
      setup: 'memory',
      sessions: 250,
      participants: 1000,
      offeredKeysPerSecond: 5007,
      p99Ms: 94,
      serverCpuUsPerKeystroke: 134,
      sustained: true,
      findings: 0,
    },
    {
      setup: 'redis-1',
      sessions: 25,
      participants: 100,
      offeredKeysPerSecond: 505,
      p99Ms: 2400,
      serverCpuUsPerKeystroke: 627,
      sustained: false,
      findings: 0,
    },
  ],
};
const soak: BenchReport = {
  bench: 'soak',
  date: '2026-12-06T12:00:00.000Z',
  totals: { keystrokes: 552_223, reconnects: 3078, chats: 13_796 },
  growthAfterWarmup: { relayRss: [0.014, 0.012], redisUsedMemory: 1.3 },
  findings: [],
};

describe('the README figures written from the bench reports', () => {
  it('renders each target with its goal and verdict, the largest sustained size per setup, and the soak', () => {
    const text = renderFigures([soak, sessions, ot]);
    const rows = text.split('\n').filter((line) => line.startsWith('| ot') || line.startsWith('| sessions') || line.startsWith('| soak'));
    assert.deepEqual(rows, [
      '| ot, 2026-12-06 | acked keystrokes/s, relay / ShareDB | 7.53 | >= 2.00 | met |',
      '| ot, 2026-12-06 | p99 / ShareDB \\| 10 editors | 1.29 | <= 0.50 | missed |',
      '| ot, 2026-12-06 | server CPU per commit, µs | 100 |  | info |',
      '| ot, 2026-12-06 | remote p99, 10 editors, relay on Redis/floor | 1.42 | <= 1.50 | met |',
      // eslint-disable-next-line max-len -- one table row
      '| sessions, 2026-12-06 | memory: most sessions sustained (participants), keys/s, p99, CPU per key | 250 (1000), 5007/s, 94.00 ms, 134 µs |  | info |',
      // eslint-disable-next-line max-len -- one table row
      '| sessions, 2026-12-06 | redis-1: most sessions sustained (participants), keys/s, p99, CPU per key | none of the sizes tried |  | info |',
      '| soak, 2026-12-06 | soak: keystrokes, dropped connections, chat messages; lost or doubled | 552223, 3078, 13796; 0 | = 0 | met |',
      '| soak, 2026-12-06 | soak: growth after warm-up (relays RSS, Redis memory) | +1.4 %, +1.2 %, +130.0 % | < 10 % | missed |',
    ]);
    assert.match(text, /2 cores, Node v20\.20\.2/);
  });

  it('keeps the rows of a bench that has no report this time (its last run), and replaces those of one that has', () => {
    const previous = [
      'From the JSON of the last run of each bench; ratios are relay / baseline where a target names one.',
      '',
      '| run | figure | measured | goal | verdict |',
      '| --- | --- | --- | --- | --- |',
      '| ot, 2026-11-01 | an old OT figure | 1.00 | >= 2.00 | missed |',
      '| scaleout, 2026-11-02 | commits/s, relay-redis / memory, 4 editors | 0.31 | >= 0.70 | missed |',
      '| soak, 2026-11-03 | soak: keystrokes, dropped connections, chat messages; lost or doubled | 1, 2, 3; 0 | = 0 | met |',
    ].join('\n');
    const readme = `# Title\n${START_MARKER}\n${previous}\n${END_MARKER}\n`;
    const text = renderFigures([ot], currentSection(readme));
    const runs = text
      .split('\n')
      .filter((line) => line.startsWith('| ') && !line.startsWith('| run') && !line.startsWith('| ---'))
      .map((line) => line.split(' | ')[0]);
    assert.deepEqual(runs, [
      '| ot, 2026-12-06',
      '| ot, 2026-12-06',
      '| ot, 2026-12-06',
      '| ot, 2026-12-06',
      '| scaleout, 2026-11-02',
      '| soak, 2026-11-03',
    ]);
    assert.ok(!text.includes('an old OT figure'), 'the new OT report replaces all of the old OT rows');
    // Written again with the same reports, the table is the same.
    assert.equal(renderFigures([ot], `\n${text}\n`), text);
    assert.equal(currentSection('# no markers'), '');
  });

  it('says how to get figures when there is no report', () => {
    assert.match(renderFigures([]), /npm run bench/);
  });

  it('replaces only the section between the markers, the same way every time', () => {
    const readme = `# Title\n\nbefore\n${START_MARKER}\nold table\n${END_MARKER}\nafter\n`;
    const once = replaceSection(readme, 'new table');
    assert.equal(once, `# Title\n\nbefore\n${START_MARKER}\nnew table\n${END_MARKER}\nafter\n`);
    assert.equal(replaceSection(once, 'new table'), once);
    assert.throws(() => replaceSection('# no markers\n', 'x'), /no .* section/);
  });

  it('reads the reports in a folder, skipping what is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    try {
      writeFileSync(join(dir, 'ot.json'), JSON.stringify(ot));
      writeFileSync(join(dir, 'broken.json'), '{ not json');
      writeFileSync(join(dir, 'other.json'), JSON.stringify({ hello: 1 }));
      writeFileSync(join(dir, 'notes.txt'), 'x');
      assert.deepEqual(
        readReports(dir).map((r) => r.bench),
        ['ot'],
      );
      assert.deepEqual(readReports(join(dir, 'missing')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the README has the section, as the generator last wrote it', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    assert.ok(readme.includes(START_MARKER) && readme.includes(END_MARKER));
  });
});
