import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { monotonicMs } from './clock';

/** Linux only: CPU time and memory of another process, read from /proc (no cooperation needed). */

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export interface ProcSample {
  /** When it was taken (ms, monotonic). */
  at: number;
  /** User + system CPU time used so far, in ms. */
  cpuMs: number;
  /** The kernel's share of `cpuMs` (system calls: here mostly socket reads and writes). */
  sysMs: number;
  rssBytes: number;
  /** Peak RSS so far. */
  hwmBytes: number;
}

export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      at: performance.now(),
      cpuMs: ((utime + stime) * 1000) / ticksPerSecond(),
      sysMs: (stime * 1000) / ticksPerSecond(),
      rssBytes: kilobytes(status, 'VmRSS') * 1024,
      hwmBytes: kilobytes(status, 'VmHWM') * 1024,
    };
  } catch {
    return undefined;
  }
}

function kilobytes(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}

/** Kernel CPU use between two samples, in % of one core. */
export function sysPercent(from: ProcSample | undefined, to: ProcSample | undefined): number | undefined {
  if (!from || !to || to.at <= from.at) return undefined;
  return (100 * (to.sysMs - from.sysMs)) / (to.at - from.at);
}

/** CPU use between two samples, in % of one core. */
export function cpuPercent(from: ProcSample | undefined, to: ProcSample | undefined): number | undefined {
  if (!from || !to || to.at <= from.at) return undefined;
  return (100 * (to.cpuMs - from.cpuMs)) / (to.at - from.at);
}

export interface SystemSample {
  at: number;
  busyTicks: number;
  totalTicks: number;
}

/** The whole machine's CPU counters (all cores), from /proc/stat. */
export function sampleSystem(): SystemSample | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const totalTicks = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
    return { at: performance.now(), busyTicks: totalTicks - idle, totalTicks };
  } catch {
    return undefined;
  }
}

/** Share of the whole machine that was busy between two samples, in % (100 = every core). */
export function systemBusyPercent(from: SystemSample | undefined, to: SystemSample | undefined): number | undefined {
  if (!from || !to || to.totalTicks <= from.totalTicks) return undefined;
  return (100 * (to.busyTicks - from.busyTicks)) / (to.totalTicks - from.totalTicks);
}

/** CPU used by everything but our processes, in % of one core. */
export function otherCpuPercent(machineBusy: number | undefined, own: Array<number | undefined>): number | undefined {
  if (machineBusy === undefined) return undefined;
  return Math.max(0, machineBusy * cpus().length - own.reduce<number>((a, c) => a + (c ?? 0), 0));
}

/**
 * This machine is shared (other builds and tests run beside the benches): before a run, wait
 * until processes other than ours use under 15% of a core, within what is left of a budget for
 * the whole bench, so a busy machine delays a bench by at most that much.
 */
/** Process and system samples at the start and the end of a measured window. */
export interface WindowSamples {
  before: Array<ProcSample | undefined>;
  after: Array<ProcSample | undefined>;
  systemBefore: SystemSample | undefined;
  systemAfter: SystemSample | undefined;
}

/**
 * Samples `pids` and the machine when the window starts and when it ends (monotonic ms, see
 * clock.ts), so that CPU figures cover the measured window only; resolves after the end.
 */
export async function sampleWindow(pids: readonly number[], windowStart: number, windowEnd: number): Promise<WindowSamples> {
  const samples: WindowSamples = { before: [], after: [], systemBefore: sampleSystem(), systemAfter: undefined };
  const wait = (until: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, until - monotonicMs())));
  await Promise.all([
    wait(windowStart).then(() => {
      samples.before = pids.map(sampleProcess);
      samples.systemBefore = sampleSystem();
    }),
    wait(windowEnd).then(() => {
      samples.after = pids.map(sampleProcess);
      samples.systemAfter = sampleSystem();
    }),
  ]);
  return samples;
}

export class QuietWaiter {
  constructor(private budgetLeftMs: number) {}

  /** Returns the others' CPU use (% of one core) at the last look. */
  async wait(ownPids: number[]): Promise<number | undefined> {
    for (;;) {
      const started = performance.now();
      const before = ownPids.map(sampleProcess);
      const systemBefore = sampleSystem();
      await new Promise((resolve) => setTimeout(resolve, 400));
      const other = otherCpuPercent(
        systemBusyPercent(systemBefore, sampleSystem()),
        ownPids.map((pid, i) => cpuPercent(before[i], sampleProcess(pid))),
      );
      this.budgetLeftMs -= performance.now() - started;
      if (other === undefined || other < 15 || this.budgetLeftMs <= 0) return other;
    }
  }
}
