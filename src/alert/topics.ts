/**
 * Topics and how subscriptions match them.
 *
 * Topics are paths (`europe/ukraine`). A subscription to a topic receives
 * that topic and everything under it; `*` receives every public topic;
 * `private` is the parent of every `private/...` topic.
 */

export const TOPIC_PATTERN = /^[a-z0-9]+(-[a-z0-9]+)*(\/[a-z0-9]+(-[a-z0-9]+)*){0,4}$/;
const ALL_PUBLIC = '*';
const PRIVATE_ROOT = 'private';

/** A subscription is a topic or `*`. */
export function isValidSubscription(sub: string): boolean {
  return sub === ALL_PUBLIC || TOPIC_PATTERN.test(sub);
}

export function isPrivateTopic(topic: string): boolean {
  return topic === PRIVATE_ROOT || topic.startsWith(PRIVATE_ROOT + '/');
}

/**
 * Every subscription that receives an alert tagged `topic`: the topic, each
 * ancestor, and `*` for a public topic. The hub looks these up in its index,
 * so delivery cost grows with the depth of a topic (at most five), never with
 * the number of readers.
 */
export function subscriptionsReceiving(topic: string): string[] {
  const out: string[] = [topic];
  let cut = topic.lastIndexOf('/');
  while (cut > 0) {
    out.push(topic.slice(0, cut));
    cut = topic.lastIndexOf('/', cut - 1);
  }
  if (!isPrivateTopic(topic)) out.push(ALL_PUBLIC);
  return out;
}

/** True when a subscription (or grant pattern) covers the topic. */
export function covers(subscription: string, topic: string): boolean {
  if (subscription === ALL_PUBLIC) return !isPrivateTopic(topic);
  return topic === subscription || (topic.startsWith(subscription) && topic.charCodeAt(subscription.length) === 47 /* '/' */);
}

/** True when any subscription in the list covers any of the topics. */
export function anyCovers(subscriptions: Iterable<string>, topics: readonly string[]): boolean {
  for (const sub of subscriptions) for (const t of topics) if (covers(sub, t)) return true;
  return false;
}

/**
 * Parses a comma list from a query string (`world,europe/ukraine`).
 * Returns the distinct entries in order; empty input means `*`.
 */
export function parseTopicList(raw: string | undefined | null): string[] {
  if (raw === undefined || raw === null || raw.trim() === '') return [ALL_PUBLIC];
  return [...new Set(raw.split(',').map((t) => t.trim()).filter(Boolean))];
}
