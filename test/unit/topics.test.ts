import { anyCovers, covers, isValidSubscription, parseTopicList, subscriptionsReceiving } from '../../src/alert/topics';

describe('topic matching', () => {
  it('a topic receives itself and everything under it', () => {
    expect(covers('europe', 'europe')).toBe(true);
    expect(covers('europe', 'europe/ukraine')).toBe(true);
    expect(covers('europe', 'europe/ukraine/kyiv')).toBe(true);
  });

  it('a prefix that is not a whole path segment does not match', () => {
    expect(covers('eu', 'europe')).toBe(false);
    expect(covers('eu', 'europe/ukraine')).toBe(false);
    expect(covers('europe/ukraine', 'europe')).toBe(false);
  });

  it('* receives every public topic and never a private one', () => {
    expect(covers('*', 'europe/ukraine')).toBe(true);
    expect(covers('*', 'sports')).toBe(true);
    expect(covers('*', 'private/x')).toBe(false);
    expect(covers('*', 'private')).toBe(false);
  });

  it('private covers every private/ topic', () => {
    expect(covers('private', 'private/x')).toBe(true);
    expect(covers('private', 'private/x/y')).toBe(true);
    expect(covers('private/x', 'private/y')).toBe(false);
  });

  it('lists the subscriptions that receive a topic: itself, ancestors, and * when public', () => {
    expect(subscriptionsReceiving('europe/ukraine/kyiv')).toEqual(['europe/ukraine/kyiv', 'europe/ukraine', 'europe', '*']);
    expect(subscriptionsReceiving('private/x')).toEqual(['private/x', 'private']);
  });

  it('anyCovers checks every pair', () => {
    expect(anyCovers(['sports', 'europe'], ['world', 'europe/ukraine'])).toBe(true);
    expect(anyCovers(['sports', 'eu'], ['world', 'europe/ukraine'])).toBe(false);
  });

  it('validates subscriptions and parses comma lists (empty means *)', () => {
    expect(isValidSubscription('*')).toBe(true);
    expect(isValidSubscription('europe/ukraine')).toBe(true);
    expect(isValidSubscription('Europe')).toBe(false);
    expect(isValidSubscription('europe/')).toBe(false);
    expect(parseTopicList(undefined)).toEqual(['*']);
    expect(parseTopicList('')).toEqual(['*']);
    expect(parseTopicList('world, europe/ukraine,world')).toEqual(['world', 'europe/ukraine']);
  });
});
