/**
 * Listing alerts newest first, for editors (pending embargoes, a lost id).
 *
 * Alert ids are ULIDs, so their order is creation order. The records are
 * found by scanning the keyspace for `PREFIX:alert:*` rather than through an
 * index: nothing on the write path changes, nothing extra has to be kept in
 * step with retention, and the cost (a walk over the keys, then reading
 * records until a page is full) suits an occasional editor's request, not
 * polling; `GET /v1/feed` is what readers poll.
 */
import type { Redis } from 'ioredis';
import { ALERT_ID_PATTERN } from '../alert/ids';
import type { AlertResource } from '../alert/schema';
import type { Keys } from '../redis/keys';
import type { AlertStore } from './alert-store';

type Scannable = Pick<Redis, 'scan'>;

/** Every alert id in Redis (every master node's, for a Cluster). */
async function allAlertIds(redis: Redis, keys: Keys): Promise<string[]> {
  const cluster = redis as unknown as { nodes?: (role: 'master') => Scannable[] };
  const nodes: Scannable[] = typeof cluster.nodes === 'function' ? cluster.nodes('master') : [redis];
  const head = keys.alert('');
  const ids = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', `${head.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 1000);
      cursor = next;
      for (const k of found) {
        const id = k.slice(head.length);
        if (ALERT_ID_PATTERN.test(id)) ids.add(id);
      }
    } while (cursor !== '0');
  }
  return [...ids];
}

export interface ListQuery {
  limit: number;
  /** Only alerts older than this id (the previous page's `next`). */
  after?: string;
  /** Which alerts belong on the page: status, topic and visibility. */
  accept: (alert: AlertResource) => boolean;
}

export async function listAlerts(redis: Redis, keys: Keys, store: AlertStore, q: ListQuery): Promise<{ alerts: AlertResource[]; next: string | null }> {
  const ids = (await allAlertIds(redis, keys)).filter((id) => q.after === undefined || id < q.after).sort().reverse();
  const alerts: AlertResource[] = [];
  const BATCH = 50;
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = await Promise.all(ids.slice(i, i + BATCH).map((id) => store.resource(id)));
    for (const a of batch) {
      if (!a || !q.accept(a)) continue;
      if (alerts.length === q.limit) return { alerts, next: alerts[alerts.length - 1]!.id };
      alerts.push(a);
    }
  }
  return { alerts, next: null };
}
