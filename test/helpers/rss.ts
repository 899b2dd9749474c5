/**
 * Resident memory of processes, read from /proc: one process, a process and
 * its direct children (cluster workers), and a sampler that keeps the peak.
 */
import fs from 'node:fs';

/** VmRSS of one process in bytes, 0 once it is gone (or never was). */
export function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** A process and its direct children. */
export function treeOf(pid: number): number[] {
  try {
    const kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return [pid, ...(kids ? kids.split(/\s+/).map(Number) : [])];
  } catch {
    return [pid];
  }
}

export function treeRss(pid: number): number {
  return treeOf(pid).reduce((sum, p) => sum + rssOf(p), 0);
}

/** Samples a process tree's RSS until stopped; answers the peak. */
export function rssSampler(pid: number, everyMs = 25): { stop(): number } {
  let peak = treeRss(pid);
  const timer = setInterval(() => (peak = Math.max(peak, treeRss(pid))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, treeRss(pid));
    },
  };
}
