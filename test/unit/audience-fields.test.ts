import { audienceFields } from '../../src/gateway/audience-publisher';
import type { Reader } from '../../src/gateway/reader';
import { TopicSet } from '../../src/gateway/topic-set';
import { parseAudienceField } from '../../src/store/audience';

/** Just enough of a reader: its subscriptions (an SSE-like transport, not a WsTransport). */
const reader = (...topics: string[]) => {
  const set = new TopicSet();
  for (const t of topics) set.add(t);
  return { closed: false, topics: set, transport: {} } as unknown as Reader;
};

describe('audience fields', () => {
  it('counts readers per distinct subscription list, never per reader', () => {
    const fields = audienceFields([reader('world'), reader('world'), reader('europe', 'world'), reader('world', 'europe'), reader()]);
    expect(Object.fromEntries(fields)).toEqual({ 's|world': 2, 's|europe,world': 2 });
    expect(parseAudienceField('s|europe,world')).toEqual({ transport: 'sse', subscriptions: ['europe', 'world'] });
    expect(parseAudienceField('w|*')).toEqual({ transport: 'websocket', subscriptions: ['*'] });
    expect(parseAudienceField('x|world')).toBeUndefined();
  });

  it('names a list the same whatever order its topics were added in, one topic or many', () => {
    const set = new TopicSet();
    expect(set.listKey()).toBe('');
    set.add('world');
    expect(set.listKey()).toBe('world');
    set.add('europe').add('asia');
    expect(set.listKey()).toBe('asia,europe,world');
    set.delete('europe');
    expect(set.listKey()).toBe('asia,world');
  });

  it('past the cap, counts each subscription alone so the hash stays small', () => {
    const fields = audienceFields([reader('a', 'b'), reader('a', 'c'), reader('d')], 2);
    expect(Object.fromEntries(fields)).toEqual({ 's|a': 2, 's|b': 1, 's|c': 1, 's|d': 1 });
  });
});
