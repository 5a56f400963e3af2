import { readFileSync } from 'node:fs';

/**
 * Prints where a `.cpuprofile` (from `node --cpu-prof`, e.g. BENCH_RELAY_PROF=dir) spent its
 * time: the top functions by self time, and by inclusive time for the relay's and `ws`'s code.
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [top=25] [NAME,NAME...]
 * With function names, it also prints the share of the busy (non-idle) time spent in them and
 * what they call, e.g. the metrics' hot-path cost: `fanOut,editAck,observerCallback`.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

// Piped into `head`: stop quietly.
process.stdout.on('error', () => process.exit(0));

const [file, topArg, namesArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const self = new Map<number, number>();
profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

const selfByLabel = new Map<string, number>();
const inclusiveByLabel = new Map<string, number>();
for (const [id, time] of self) {
  const node = byId.get(id)!;
  selfByLabel.set(label(node), (selfByLabel.get(label(node)) ?? 0) + time);
  // Inclusive: once per distinct label on the stack.
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const name = label(byId.get(at)!);
    if (seen.has(name)) continue;
    seen.add(name);
    inclusiveByLabel.set(name, (inclusiveByLabel.get(name) ?? 0) + time);
  }
}

const pct = (time: number) => `${((100 * time) / total).toFixed(1).padStart(5)}%`;
const print = (title: string, entries: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, time] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${pct(time)}  ${name}\n`);
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(2)} s sampled\n`);
print('self time', selfByLabel);
print('inclusive time', inclusiveByLabel);
if (namesArg) printBusyShare(new Set(namesArg.split(',')));

/** The share of the non-idle time spent inside a function of one of these names (each sample counted once). */
function printBusyShare(names: Set<string>): void {
  let busy = 0;
  let inside = 0;
  for (const [id, time] of self) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    busy += time;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (!names.has(byId.get(at)!.callFrame.functionName)) continue;
      inside += time;
      break;
    }
  }
  const share = `${((100 * inside) / busy).toFixed(2)}% of the busy time`;
  process.stdout.write(`\n${share} in ${[...names].join(', ')} (${(inside / 1e3).toFixed(0)} of ${(busy / 1e3).toFixed(0)} ms)\n`);
}
