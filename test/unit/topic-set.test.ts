import { TopicSet } from '../../src/gateway/topic-set';

describe("a reader's topic set", () => {
  it('behaves as a Set of strings, keeping insertion order, whether it holds one topic or many', () => {
    const s = new TopicSet();
    expect(s.size).toBe(0);
    expect([...s]).toEqual([]);
    expect(s.has('world')).toBe(false);
    expect(s.delete('world')).toBe(false);

    s.add('world').add('world');
    expect(s.size).toBe(1);
    expect(s.has('world')).toBe(true);
    expect([...s]).toEqual(['world']);

    s.add('europe').add('sports').add('europe');
    expect(s.size).toBe(3);
    expect([...s]).toEqual(['world', 'europe', 'sports']);
    expect(s.delete('world')).toBe(true);
    expect(s.delete('world')).toBe(false);
    expect([...s]).toEqual(['europe', 'sports']);
    expect(s.has('sports')).toBe(true);
    expect(s.has('world')).toBe(false);
  });

  it('forgets its only topic and takes another', () => {
    const s = new TopicSet();
    s.add('world');
    expect(s.delete('europe')).toBe(false);
    expect(s.delete('world')).toBe(true);
    expect(s.size).toBe(0);
    s.add('europe');
    expect([...s]).toEqual(['europe']);
  });
});
