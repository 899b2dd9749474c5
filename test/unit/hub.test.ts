import type { FeedEvent } from '../../src/feed/feed-event';
import { Hub, type HubMember } from '../../src/gateway/hub';

const ev = (eventId: string, topics: string[]): FeedEvent => ({ eventId, type: 'alert', alertId: 'a' + eventId, topics, expiresAt: 0, frame: '{}' });

class Member implements HubMember {
  lastDispatch = 0;
  got: string[] = [];
  deliver(e: FeedEvent): void {
    this.got.push(e.eventId);
  }
}

describe('the hub', () => {
  it('reports the first subscriber and the last one leaving', () => {
    const hub = new Hub<Member>();
    const a = new Member();
    const b = new Member();
    expect(hub.add(a, 'europe')).toBe(true);
    expect(hub.add(b, 'europe')).toBe(false);
    expect(hub.membersOf('europe')).toBe(2);
    expect(hub.remove(a, 'europe')).toBe(false);
    expect(hub.remove(b, 'europe')).toBe(true);
    expect(hub.subscriptionCount).toBe(0);
    expect(hub.remove(b, 'europe')).toBe(false);
  });

  it('delivers to parents and * but not to unrelated or prefix-only subscriptions', () => {
    const hub = new Hub<Member>();
    const europe = new Member();
    const eu = new Member();
    const star = new Member();
    const priv = new Member();
    hub.add(europe, 'europe');
    hub.add(eu, 'eu');
    hub.add(star, '*');
    hub.add(priv, 'private');
    expect(hub.dispatch(ev('1-0', ['europe/ukraine']))).toBe(2);
    expect(hub.dispatch(ev('2-0', ['private/club']))).toBe(1);
    expect(europe.got).toEqual(['1-0']);
    expect(star.got).toEqual(['1-0']);
    expect(eu.got).toEqual([]);
    expect(priv.got).toEqual(['2-0']);
  });

  it('delivers once to a member whose subscriptions overlap, across every topic of the event', () => {
    const hub = new Hub<Member>();
    const m = new Member();
    for (const s of ['europe', 'europe/ukraine', 'world', '*']) hub.add(m, s);
    expect(hub.dispatch(ev('1-0', ['europe/ukraine', 'world', 'nato']))).toBe(1);
    expect(hub.dispatch(ev('2-0', ['world']))).toBe(1);
    expect(m.got).toEqual(['1-0', '2-0']);
  });

  it('costs work in proportion to matching members, not to every member', () => {
    const hub = new Hub<Member>();
    const many = Array.from({ length: 1000 }, () => new Member());
    many.forEach((m, i) => hub.add(m, `topic-${i}`));
    const one = new Member();
    hub.add(one, 'sports');
    // Count deliver calls via a member that records being visited: only the matching one is.
    expect(hub.dispatch(ev('1-0', ['sports']))).toBe(1);
    expect(many.every((m) => m.lastDispatch === 0)).toBe(true);
    // Cost grows with matches: 3 topics hit 3 members.
    expect(hub.dispatch(ev('2-0', ['topic-1', 'topic-2', 'topic-3']))).toBe(3);
    expect(many.filter((m) => m.lastDispatch !== 0)).toHaveLength(3);
  });
});
