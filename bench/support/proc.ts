// Linux /proc readings for the benchmark: CPU time and RSS of a process tree (the engine and
// its Temporal dev server), machine-wide CPU use (to see what else loads the cores), and the
// TCP ports a process listens on (to find the engine's embedded PostgreSQL port).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck = 100;
try {
  clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* Linux default */
}

const read = (path: string): string | null => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};

export interface ProcSample {
  pid: number;
  name: string;
  /** user + system CPU seconds since the process started */
  cpuSeconds: number;
  rssBytes: number;
  /** seconds its threads spent runnable but waiting for a CPU (schedstat), summed over threads */
  runqueueWaitSeconds: number;
}

/** Sum over the process's threads of /proc/<pid>/task/<tid>/schedstat field 2 (ns waiting on a run queue). */
function runqueueWait(pid: number): number {
  let ns = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0;
  }
  for (const t of tasks) {
    const f = (read(`/proc/${pid}/task/${t}/schedstat`) ?? '').trim().split(/\s+/);
    if (f.length >= 2) ns += Number(f[1]) || 0;
  }
  return ns / 1e9;
}

/** One process's CPU seconds and RSS, or null when it is gone. */
export function sampleProcess(pid: number): ProcSample | null {
  const stat = read(`/proc/${pid}/stat`);
  const status = read(`/proc/${pid}/status`);
  if (!stat || !status) return null;
  // comm may contain spaces and parentheses: fields start after the last ')'.
  const close = stat.lastIndexOf(')');
  const name = stat.slice(stat.indexOf('(') + 1, close);
  const fields = stat.slice(close + 2).split(' ');
  // fields[0] is field 3 (state); utime = field 14, stime = field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(status);
  return {
    pid,
    name,
    cpuSeconds: (utime + stime) / clkTck,
    rssBytes: rss ? Number(rss[1]) * 1024 : 0,
    runqueueWaitSeconds: runqueueWait(pid),
  };
}

/** pid and every descendant (breadth first), by scanning /proc/<pid>/stat parent ids. */
export function processTree(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = read(`/proc/${d}/stat`);
    if (!stat) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    parentOf.set(Number(d), Number(fields[1]));
  }
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const [pid, ppid] of parentOf) if (ppid === out[i] && !out.includes(pid)) out.push(pid);
  }
  return out.filter((p) => parentOf.has(p));
}

/** Processes whose command line contains `needle` (e.g. the PostgreSQL backends serving one database). */
export function processesMatching(needle: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = read(`/proc/${d}/cmdline`);
    if (cmd && cmd.includes(needle)) out.push(Number(d));
  }
  return out;
}

/** Machine-wide jiffies (busy, total) from /proc/stat. */
export function systemCpu(): { busy: number; total: number } {
  const line = (read('/proc/stat') ?? '').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

export const cpuCount = (): number => (read('/proc/cpuinfo') ?? '').split('\n').filter((l) => l.startsWith('processor')).length || 1;
export const loadAverage = (): string => (read('/proc/loadavg') ?? '').split(' ').slice(0, 3).join(' ');
export const clockTicks = () => clkTck;

/** TCP ports (IPv4/IPv6) on which `pid` has a listening socket. */
export function listeningPorts(pid: number): number[] {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      /* fd closed meanwhile */
    }
  }
  const ports = new Set<number>();
  for (const table of ['tcp', 'tcp6']) {
    const lines = (read(`/proc/${pid}/net/${table}`) ?? '').split('\n').slice(1);
    for (const l of lines) {
      const f = l.trim().split(/\s+/);
      if (f.length < 10 || f[3] !== '0A') continue; // 0A = LISTEN
      if (!inodes.has(f[9])) continue;
      ports.add(parseInt(f[1].split(':').pop()!, 16));
    }
  }
  return [...ports];
}

/**
 * Watches a process tree: CPU seconds per process between mark() calls and peak RSS per
 * process, sampled every `intervalMs`.
 */
export class TreeMonitor {
  private timer: NodeJS.Timeout | null = null;
  readonly peakRss = new Map<number, number>();
  readonly names = new Map<number, string>();

  constructor(
    private readonly root: number,
    private readonly intervalMs = 1000,
    private readonly extra: () => number[] = () => [],
  ) {}

  pids(): number[] {
    return [...new Set([...processTree(this.root), ...this.extra()])];
  }

  /** CPU seconds per pid now (and records names/RSS). */
  snapshot(): Map<number, ProcSample> {
    const out = new Map<number, ProcSample>();
    for (const pid of this.pids()) {
      const s = sampleProcess(pid);
      if (!s) continue;
      out.set(pid, s);
      this.names.set(pid, s.name);
      this.peakRss.set(pid, Math.max(this.peakRss.get(pid) ?? 0, s.rssBytes));
    }
    return out;
  }

  start() {
    this.stop();
    this.snapshot();
    this.timer = setInterval(() => this.snapshot(), this.intervalMs);
    this.timer.unref();
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  resetPeaks() {
    this.peakRss.clear();
  }
}
