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

/** CPU seconds (user + system) used by these processes so far; a process gone counts 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      // Fields after the command (which may hold spaces), from its closing parenthesis: utime is the 12th, stime the 13th.
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // gone
    }
  }
  return ticks / TICKS;
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

/** Where the CPU went between two moments: the server's processes, the readers', and everything else on the machine. */
export class CpuSplit {
  private readonly start: { server: number; readers: number; machine: number; at: number };
  constructor(
    private readonly serverPids: () => number[],
    private readonly readerPids: number[],
  ) {
    this.start = this.now();
  }

  private now() {
    return { server: cpuSeconds(this.serverPids()), readers: cpuSeconds(this.readerPids), machine: machineBusySeconds(), at: Date.now() };
  }

  /** CPU seconds of each since construction, and the wall-clock seconds. */
  stop(): { serverSeconds: number; readerSeconds: number; otherSeconds: number; wallSeconds: number } {
    const end = this.now();
    const server = end.server - this.start.server;
    const readers = end.readers - this.start.readers;
    return {
      serverSeconds: round(server, 2),
      readerSeconds: round(readers, 2),
      otherSeconds: round(Math.max(0, end.machine - this.start.machine - server - readers), 2),
      wallSeconds: round((end.at - this.start.at) / 1000, 2),
    };
  }
}
