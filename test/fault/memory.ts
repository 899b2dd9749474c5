/**
 * Memory of a child-process service: resident set from /proc, and the V8
 * heap from /metrics (prom-client's default metrics) when the process serves
 * them. Sampled a few times and the minimum kept, because a heap read between
 * two collections carries garbage that is not a leak.
 */
import { sleep } from '../helpers/clients';
import { rssOf } from '../helpers/rss';

export interface Memory {
  rss: number;
  heapUsed: number | undefined;
}

async function heapOf(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) });
    if (res.status !== 200) return undefined;
    const m = /^flashwire_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(await res.text());
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export async function memoryOf(pid: number, url: string, samples = 5): Promise<Memory> {
  let rss = Infinity;
  let heap: number | undefined;
  for (let i = 0; i < samples; i++) {
    rss = Math.min(rss, rssOf(pid));
    const h = await heapOf(url);
    if (h !== undefined) heap = heap === undefined ? h : Math.min(heap, h);
    await sleep(200);
  }
  return { rss, heapUsed: heap };
}

export const MB = 1024 * 1024;

export function describeMemory(label: string, before: Memory, after: Memory): string {
  const f = (n: number | undefined) => (n === undefined ? 'n/a' : `${(n / MB).toFixed(1)} MB`);
  return `${label}: rss ${f(before.rss)} -> ${f(after.rss)}, heap ${f(before.heapUsed)} -> ${f(after.heapUsed)}`;
}
