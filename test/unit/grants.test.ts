/**
 * The one visibility rule (auth/grants.ts): who may read a topic or a
 * subscription, and who may see an alert.
 */
import { alertVisible, mayRead, mayReadAlert } from '../../src/auth/grants';
import type { KeyPrincipal, Principal, Scope, TokenPrincipal } from '../../src/auth/principal';

const key = (name: string, ...scopes: Scope[]): KeyPrincipal => ({ kind: 'key', name, scopes });
const token = (...topics: string[]): TokenPrincipal => ({ kind: 'token', topics, expiresAt: Date.now() + 3_600_000 });

const anonymous = undefined;
const publisher = key('desk', 'publish');
const approver = key('chief', 'approve');
const subscriber = key('mobile-backend', 'subscribe');
const admin = key('ops', 'admin');

describe('mayRead', () => {
  it('opens public topics, their subscriptions and * to everyone', () => {
    const everyone: (Principal | undefined)[] = [anonymous, publisher, approver, subscriber, admin, token('private/club')];
    for (const p of everyone) {
      for (const subject of ['world', 'europe/ukraine', '*', 'privately-owned', 'privateer/news']) expect({ p, subject, ok: mayRead(p, subject) }).toEqual({ p, subject, ok: true });
    }
  });

  it('keeps private topics from anonymous readers and from keys without subscribe or admin', () => {
    for (const p of [anonymous, publisher, approver]) {
      for (const subject of ['private', 'private/club', 'private/club/vip']) expect({ p, subject, ok: mayRead(p, subject) }).toEqual({ p, subject, ok: false });
    }
  });

  it('opens every private topic to keys with subscribe or admin', () => {
    for (const p of [subscriber, admin, key('both', 'publish', 'subscribe')]) {
      for (const subject of ['private', 'private/club', 'private/desk/night']) expect(mayRead(p, subject)).toBe(true);
    }
  });

  it('opens to a token what its topics cover: the topic and what is under it, never a sibling or an ancestor', () => {
    const club = token('private/club');
    expect(mayRead(club, 'private/club')).toBe(true);
    expect(mayRead(club, 'private/club/vip')).toBe(true);
    expect(mayRead(club, 'private/clubhouse')).toBe(false);
    expect(mayRead(club, 'private/other')).toBe(false);
    // A subscription to an ancestor would receive more than the grant.
    expect(mayRead(club, 'private')).toBe(false);
    expect(mayRead(token('private/club/vip'), 'private/club')).toBe(false);
  });

  it('opens every private topic to a token granting the private root, and none to one granting *', () => {
    expect(mayRead(token('private'), 'private')).toBe(true);
    expect(mayRead(token('private'), 'private/anything/deep')).toBe(true);
    expect(mayRead(token('*'), 'private/club')).toBe(false);
    expect(mayRead(token(), 'private/club')).toBe(false);
    expect(mayRead(token('world', 'private/a'), 'private/a')).toBe(true);
  });
});

describe('alertVisible', () => {
  it('shows an alert with one public topic to everyone', () => {
    for (const p of [anonymous, publisher, token('private/x')]) expect(alertVisible(p, { topics: ['private/desk', 'world'] })).toBe(true);
  });

  it('shows a private alert to whoever may read one of its topics', () => {
    const alert = { topics: ['private/a', 'private/b/c'] };
    expect(alertVisible(token('private/b'), alert)).toBe(true);
    expect(alertVisible(token('private/c'), alert)).toBe(false);
    expect(alertVisible(subscriber, alert)).toBe(true);
    expect(alertVisible(admin, alert)).toBe(true);
    expect(alertVisible(anonymous, alert)).toBe(false);
    expect(alertVisible(publisher, alert)).toBe(false);
  });

  it('shows a private alert to the key that published it, and to no one else by that right', () => {
    const alert = { topics: ['private/desk'], publishedBy: 'desk' };
    expect(alertVisible(publisher, alert)).toBe(true);
    expect(alertVisible(key('other-desk', 'publish'), alert)).toBe(false);
    expect(alertVisible(anonymous, alert)).toBe(false);
    // A token is never a publisher, whatever its subject says.
    expect(alertVisible({ ...token('private/other'), subject: 'desk' }, alert)).toBe(false);
    // Without publishedBy (the stream and the feed), publishing grants nothing.
    expect(alertVisible(publisher, { topics: ['private/desk'] })).toBe(false);
  });

  it('is what the HTTP read paths call', () => {
    expect(mayReadAlert(publisher, ['private/desk'], 'desk')).toBe(true);
    expect(mayReadAlert(publisher, ['private/desk'])).toBe(false);
    expect(mayReadAlert(anonymous, ['world'])).toBe(true);
  });
});
