/**
 * What a principal may read. Public topics are open to everyone; `private/`
 * ones need a subscribe-scope API key (which reads every topic) or a
 * subscriber token whose `topics` claim covers them.
 */
import { covers, isPrivateTopic } from '../alert/topics';
import type { Principal } from './principal';

/** True when the principal may hold this subscription (a topic, `*` or `private`). */
export function mayReadSubscription(p: Principal | undefined, subscription: string): boolean {
  if (!isPrivateTopic(subscription)) return true;
  if (!p) return false;
  if (p.kind === 'key') return p.scopes.includes('subscribe') || p.scopes.includes('admin');
  return p.topics.some((g) => covers(g, subscription));
}

/** True when the principal may read an alert tagged with every one of `topics`. */
export function mayReadAlert(p: Principal | undefined, topics: readonly string[]): boolean {
  return topics.every((t) => mayReadSubscription(p, t));
}
