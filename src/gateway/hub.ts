/**
 * The hub: this gateway's index from subscription to readers. An event is
 * delivered by looking up only the subscriptions that receive its topics
 * (the topic, its ancestors, `*`), so the cost of an alert grows with the
 * readers who get it, never with every reader connected.
 */
import { subscriptionsReceiving } from '../alert/topics';
import type { FeedEvent } from '../feed/feed-event';

export interface HubMember {
  /** Stamp of the last dispatch that reached this member (dedupe across topics). */
  lastDispatch: number;
  deliver(event: FeedEvent): void;
}

export class Hub<M extends HubMember> {
  private readonly index = new Map<string, Set<M>>();
  private dispatchSeq = 0;
  /** Receiving subscriptions per topic, memoised: topics repeat far more than they vary. */
  private readonly receiving = new Map<string, string[]>();

  /** Adds a subscription; true when it is the first for that subscription. */
  add(member: M, subscription: string): boolean {
    let set = this.index.get(subscription);
    const first = set === undefined;
    if (!set) {
      set = new Set();
      this.index.set(subscription, set);
    }
    set.add(member);
    return first;
  }

  /** Removes a subscription; true when nobody holds it any more. */
  remove(member: M, subscription: string): boolean {
    const set = this.index.get(subscription);
    if (!set) return false;
    set.delete(member);
    if (set.size === 0) {
      this.index.delete(subscription);
      return true;
    }
    return false;
  }

  /** Delivers to every member whose subscriptions receive the event, once each. */
  dispatch(event: FeedEvent): number {
    const stamp = ++this.dispatchSeq;
    let delivered = 0;
    for (const topic of event.topics) {
      for (const sub of this.receivingFor(topic)) {
        const set = this.index.get(sub);
        if (!set) continue;
        for (const m of set) {
          if (m.lastDispatch === stamp) continue;
          m.lastDispatch = stamp;
          m.deliver(event);
          delivered++;
        }
      }
    }
    return delivered;
  }

  /** Number of distinct subscriptions indexed (for metrics and tests). */
  get subscriptionCount(): number {
    return this.index.size;
  }

  membersOf(subscription: string): number {
    return this.index.get(subscription)?.size ?? 0;
  }

  private receivingFor(topic: string): string[] {
    let subs = this.receiving.get(topic);
    if (!subs) {
      subs = subscriptionsReceiving(topic);
      if (this.receiving.size > 100_000) this.receiving.clear();
      this.receiving.set(topic, subs);
    }
    return subs;
  }
}
