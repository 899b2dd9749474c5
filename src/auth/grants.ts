/**
 * The one visibility rule, for every read path: the stream (its topics at
 * connect and in `subscribe`, hence live delivery and replay), SSE,
 * `GET /v1/feed` and `GET /v1/alerts/{id}`.
 *
 * A public topic is open to everyone. A `private/` one is open to a
 * subscriber token whose `topics` claim covers it, and to an API key with
 * `subscribe` or `admin` (the newsroom's readers of every topic). An alert
 * is visible when the caller may read at least one of its topics; on
 * `GET /v1/alerts/{id}` it is also visible to the key that published it.
 *
 * A reader receives an alert when one of its subscriptions covers one of the
 * alert's topics; every subscription it holds passed `mayRead`, so that is
 * the same rule: whatever it receives, `alertVisible` would show it.
 */
import { covers, isPrivateTopic } from '../alert/topics';
import type { Principal } from './principal';

/** Scopes of an API key that read every topic. */
const READER_SCOPES = ['subscribe', 'admin'] as const;

/** True when the principal may read `subject`: a topic, or a subscription (a topic, `*`, `private`). */
export function mayRead(p: Principal | undefined, subject: string): boolean {
  if (!isPrivateTopic(subject)) return true;
  if (!p) return false;
  if (p.kind === 'key') return READER_SCOPES.some((s) => p.scopes.includes(s));
  return p.topics.some((g) => covers(g, subject));
}

export interface VisibleAlert {
  topics: readonly string[];
  /** The publishing key's name; given where its publisher may read it (GET /v1/alerts/{id}). */
  publishedBy?: string;
}

/** True when the principal may see this alert: it may read one of its topics, or published it. */
export function alertVisible(p: Principal | undefined, alert: VisibleAlert): boolean {
  if (alert.topics.some((t) => mayRead(p, t))) return true;
  return alert.publishedBy !== undefined && p?.kind === 'key' && p.name === alert.publishedBy;
}

/** The names the HTTP read paths use: the same rule. */
export const mayReadSubscription = mayRead;
export function mayReadAlert(p: Principal | undefined, topics: readonly string[], publishedBy?: string): boolean {
  return alertVisible(p, publishedBy === undefined ? { topics } : { topics, publishedBy });
}
