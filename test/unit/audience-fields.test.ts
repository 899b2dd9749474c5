import { audienceFields } from '../../src/gateway/audience-publisher';
import type { Reader } from '../../src/gateway/reader';
import { parseAudienceField } from '../../src/store/audience';

/** Just enough of a reader: its subscriptions (an SSE-like transport, not a WsTransport). */
const reader = (...topics: string[]) => ({ closed: false, topics: new Set(topics), transport: {} }) as unknown as Reader;

describe('audience fields', () => {
  it('counts readers per distinct subscription list, never per reader', () => {
    const fields = audienceFields([reader('world'), reader('world'), reader('europe', 'world'), reader('world', 'europe'), reader()]);
    expect(Object.fromEntries(fields)).toEqual({ 's|world': 2, 's|europe,world': 2 });
    expect(parseAudienceField('s|europe,world')).toEqual({ transport: 'sse', subscriptions: ['europe', 'world'] });
    expect(parseAudienceField('w|*')).toEqual({ transport: 'websocket', subscriptions: ['*'] });
    expect(parseAudienceField('x|world')).toBeUndefined();
  });

  it('past the cap, counts each subscription alone so the hash stays small', () => {
    const fields = audienceFields([reader('a', 'b'), reader('a', 'c'), reader('d')], 2);
    expect(Object.fromEntries(fields)).toEqual({ 's|a': 2, 's|b': 1, 's|c': 1, 's|d': 1 });
  });
});
