/**
 * What a principal may read on the HTTP read paths. Public topics are open
 * to everyone; `private/` ones need an API key (any of the newsroom's keys
 * reads every topic) or a subscriber token whose `topics` claim covers them.
 */
import { covers, isPrivateTopic } from '../alert/topics';
import type { Principal } from './principal';

/** True when the principal may hold this subscription (a topic, `*` or `private`). */
export function mayReadSubscription(p: Principal | undefined, subscription: string): boolean {
  if (!isPrivateTopic(subscription)) return true;
  if (!p) return false;
  // Every API key is the newsroom's own: `subscribe` is what mobile
  // backends hold, and a `publish` key must see the report of the private
  // alert it posted.
  if (p.kind === 'key') return p.scopes.length > 0;
  return p.topics.some((g) => covers(g, subscription));
}

/** True when the principal may read an alert tagged with every one of `topics`. */
export function mayReadAlert(p: Principal | undefined, topics: readonly string[]): boolean {
  return topics.every((t) => mayReadSubscription(p, t));
}
