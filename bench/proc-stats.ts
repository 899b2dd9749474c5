/**
 * What the benchmark reads about processes from /proc: the open-file limit
 * it and its children run under, and each gateway process's memory and
 * open files (one per reader, give or take a few dozen of its own).
 */
import fs from 'node:fs';
import { rssOf, treeOf } from '../test/helpers/rss';
import { round } from './stats';

/** The soft limit on open files, which children inherit; Infinity when unlimited or unknown. */
export function openFileLimit(): number {
  try {
    const m = /^Max open files\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    const n = Number(m?.[1]);
    return Number.isFinite(n) && n > 0 ? n : Infinity;
  } catch {
    return Infinity;
  }
}

/** Open file descriptors of a process; 0 once it is gone. */
export function openFiles(pid: number): number {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

export interface ProcessFigures {
  pid: number;
  /** The cluster primary only hands out connections; workers hold the readers. */
  role: 'primary' | 'worker' | 'single';
  rssMiB: number;
  openFiles: number;
}

/** The gateway's processes: the one started and, in cluster mode, its workers. */
export function gatewayProcesses(pid: number): ProcessFigures[] {
  const [root, ...kids] = treeOf(pid);
  const one = (p: number, role: ProcessFigures['role']): ProcessFigures => ({ pid: p, role, rssMiB: round(rssOf(p) / 2 ** 20, 1), openFiles: openFiles(p) });
  if (kids.length === 0) return [one(root!, 'single')];
  return [one(root!, 'primary'), ...kids.map((k) => one(k, 'worker'))];
}

/** The gateway's worker pids (the process itself when it is not a cluster). */
export function workerPids(pid: number): number[] {
  const [root, ...kids] = treeOf(pid);
  return kids.length ? kids : [root!];
}

/** Clock ticks per second in /proc (USER_HZ): 100 on Linux. */
const TICKS = 100;

/** A process's command name and CPU ticks (user + system) so far; undefined once it is gone. */
function processStat(pid: number | string): { name: string; ticks: number } | undefined {
  try {
    // Fields after the command (which may hold spaces), from its closing parenthesis: utime is the 12th, stime the 13th.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

/** CPU seconds the whole machine has spent busy (every core, every process, interrupts included). */
export function machineBusySeconds(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: all but idle and iowait.
    return ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0)) / TICKS;
  } catch {
    return 0;
  }
}

/** CPU ticks of every process on the machine by pid, with its command name. */
function allProcessTicks(): Map<number, { name: string; ticks: number }> {
  const out = new Map<number, { name: string; ticks: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const p = processStat(d);
    if (p) out.set(Number(d), p);
  }
  return out;
}

/** CPU seconds of these processes in a snapshot; a process gone counts 0. */
function secondsOf(ticks: Map<number, { ticks: number }>, pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) sum += ticks.get(pid)?.ticks ?? 0;
  return sum / TICKS;
}

export interface CpuFigures {
  serverSeconds: number;
  readerSeconds: number;
  /** The rest of the machine: busy time that is neither the server's nor the readers'. */
  otherSeconds: number;
  wallSeconds: number;
  /** The rest of the machine by process name, largest first (at most 8); the system's other processes under their roles. */
  otherByProcess: Record<string, number>;
}

/**
 * Where the CPU went over one or more windows: the server's processes, the
 * readers', and everything else on the machine. Windows, so that two
 * systems measured in turn, alert by alert, are each charged only their own.
 */
export class CpuSplit {
  private open: { server: number; readers: number; machine: number; at: number; ticks: Map<number, { name: string; ticks: number }> } | undefined;
  private readonly sum = { server: 0, readers: 0, other: 0, wall: 0 };
  private readonly byName = new Map<string, number>();

  constructor(
    private readonly serverPids: () => number[],
    private readonly readerPids: number[],
    /** The system's other processes (an API), named by role. */
    private readonly named: Record<number, string> = {},
  ) {}

  private now() {
    const ticks = allProcessTicks();
    return { server: secondsOf(ticks, this.serverPids()), readers: secondsOf(ticks, this.readerPids), machine: machineBusySeconds(), at: Date.now(), ticks };
  }

  /** Starts a window. */
  resume(): void {
    this.open ??= this.now();
  }

  /** Ends the window started last, adding it to the sums. */
  pause(): void {
    const start = this.open;
    if (!start) return;
    this.open = undefined;
    const end = this.now();
    const server = end.server - start.server;
    const readers = end.readers - start.readers;
    this.sum.server += server;
    this.sum.readers += readers;
    this.sum.other += Math.max(0, end.machine - start.machine - server - readers);
    this.sum.wall += (end.at - start.at) / 1000;
    const mine = new Set([...this.serverPids(), ...this.readerPids]);
    for (const [pid, p] of end.ticks) {
      if (mine.has(pid)) continue;
      const d = p.ticks - (start.ticks.get(pid)?.ticks ?? 0);
      if (d <= 0) continue;
      const name = this.named[pid] ?? p.name;
      this.byName.set(name, (this.byName.get(name) ?? 0) + d / TICKS);
    }
  }

  /** CPU seconds of each over every window so far, and the windows' wall-clock seconds. */
  figures(): CpuFigures {
    this.pause();
    return {
      serverSeconds: round(this.sum.server, 2),
      readerSeconds: round(this.sum.readers, 2),
      otherSeconds: round(this.sum.other, 2),
      wallSeconds: round(this.sum.wall, 2),
      otherByProcess: Object.fromEntries([...this.byName].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, v]) => [k, round(v, 2)])),
    };
  }
}
