/**
 * What benchmark readers subscribe to and what alerts carry. With one topic
 * per reader every reader holds `bench`; with k topics each also holds k-1
 * topics from a pool of 100, different per reader, and each alert carries
 * `bench` plus up to 19 pool topics, so a reader is matched through several
 * of its subscriptions and the hub must deliver to it once.
 */
export const TOPIC = 'bench';
const POOL = 100;

export function readerTopics(index: number, k: number): string {
  const t = [TOPIC];
  for (let j = 0; t.length < k && j < POOL; j++) {
    const p = `pool-${(index * 7 + j * 13) % POOL}`;
    if (!t.includes(p)) t.push(p);
  }
  return t.join(',');
}

export function alertTopics(k: number): string[] {
  return [TOPIC, ...Array.from({ length: Math.min(k - 1, 19) }, (_, j) => `pool-${j}`)];
}
