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
