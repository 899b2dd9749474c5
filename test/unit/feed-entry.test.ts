import fs from 'node:fs';
import path from 'node:path';
import type { AlertPayload } from '../../src/alert/schema';
import { alertEvent, controlFrameText, framesWithoutAlertMembers, frameText, membersText, priorityInFrame, retractEvent } from '../../src/feed/frame-text';
import { ENTRY_FIELDS, entryExpiry, isExpired, parseEntry, toEntry, type EntryValues, type FeedEvent } from '../../src/feed/feed-event';
import { serverFrameSchema } from '../../src/protocol/frames';

const payload: AlertPayload = {
  id: '01HXALERT0000000000000000A',
  headline: 'Quake "7.1" hits\nthe coast — évacuation',
  topics: ['world', 'europe/italy'],
  priority: 'flash',
  createdAt: '2024-05-01T10:00:00.000Z',
  summary: 'Back\\slash and </script> stay text',
  sentAt: '2024-05-01T10:00:01.000Z',
};

/** The entry's fields as XRANGE returns them: [field, value, ...]. */
const fieldsOf = (v: EntryValues, order: readonly string[] = ENTRY_FIELDS) => order.flatMap((f) => [f, v[f as keyof EntryValues]]);

describe('feed entries', () => {
  it('an alert entry reads back as the event, with the frame the wire has always carried', () => {
    const entry = toEntry(alertEvent('alert', payload), { id: payload.id, topics: payload.topics, expiresAt: '2024-05-02T10:00:00.000Z' });
    expect(entry).toEqual({
      type: 'alert',
      alert: payload.id,
      topics: 'world,europe/italy',
      exp: String(Date.parse('2024-05-02T10:00:00.000Z')),
      body: `"alert":${JSON.stringify(payload)}`,
    });
    const e = parseEntry('1714557601000-0', fieldsOf(entry)) as FeedEvent;
    expect(e).toEqual({
      eventId: '1714557601000-0',
      type: 'alert',
      alertId: payload.id,
      topics: ['world', 'europe/italy'],
      expiresAt: Date.parse('2024-05-02T10:00:00.000Z'),
      frame: e.frame,
    });
    // Byte for byte: type, eventId, then the members, as one JSON object.
    expect(e.frame).toBe(JSON.stringify({ type: 'alert', eventId: '1714557601000-0', alert: payload }));
    expect(serverFrameSchema.parse(JSON.parse(e.frame))).toEqual({ type: 'alert', eventId: '1714557601000-0', alert: payload });
  });

  it('an update carries the alert as corrected', () => {
    const corrected = { ...payload, headline: 'Quake 6.9 hits the coast', updatedAt: '2024-05-01T10:05:00.000Z' };
    const e = parseEntry('7-3', fieldsOf(toEntry(alertEvent('update', corrected), payload))) as FeedEvent;
    expect(e.type).toBe('update');
    expect(e.frame).toBe(JSON.stringify({ type: 'update', eventId: '7-3', alert: corrected }));
  });

  it('a retraction names the alert and the reason, in that order', () => {
    const reason = 'Wrong "source", see\nnote';
    const e = parseEntry('9-0', fieldsOf(toEntry(retractEvent('A1', reason), { id: 'A1', topics: ['world'] }))) as FeedEvent;
    expect(e.frame).toBe(`{"type":"retract","eventId":"9-0","id":"A1","reason":${JSON.stringify(reason)}}`);
    expect(serverFrameSchema.parse(JSON.parse(e.frame))).toEqual({ type: 'retract', eventId: '9-0', id: 'A1', reason });
    expect(e.expiresAt).toBe(0);
  });

  it('frames stay on one line whatever the text holds (SSE sends each as one data: line)', () => {
    const e = parseEntry('1-0', fieldsOf(toEntry(retractEvent('A\n1', 'line\r\nbreak\u2028'), { id: 'A1', topics: ['world'] }))) as FeedEvent;
    expect(e.frame).not.toMatch(/[\r\n]/);
    expect(JSON.parse(e.frame)).toMatchObject({ id: 'A\n1', reason: 'line\r\nbreak\u2028' });
  });

  it('reads fields in any order, and empty topics and expiry as none', () => {
    const v: EntryValues = { type: 'alert', alert: 'A', topics: '', exp: '', body: '"alert":{"id":"A"}' };
    const e = parseEntry('5-0', fieldsOf(v, ['body', 'exp', 'alert', 'type', 'topics'])) as FeedEvent;
    expect(e).toEqual({ eventId: '5-0', type: 'alert', alertId: 'A', topics: [], expiresAt: 0, frame: '{"type":"alert","eventId":"5-0","alert":{"id":"A"}}' });
  });

  it('skips entries it does not know, rather than sending readers a frame with no type', () => {
    expect(parseEntry('1-0', [])).toBeUndefined();
    expect(parseEntry('1-0', ['type', 'welcome', 'body', '"x":1'])).toBeUndefined();
    expect(parseEntry('1-0', ['alert', 'A', 'body', '"x":1'])).toBeUndefined();
    // A dangling field name with no value is ignored.
    expect(parseEntry('1-0', ['type', 'retract', 'alert', 'A', 'body', '"id":"A","reason":"r"', 'exp'])?.expiresAt).toBe(0);
  });

  it('writes expiry as ms since the epoch, and none as empty', () => {
    expect(entryExpiry(undefined)).toBe('');
    expect(entryExpiry('1970-01-01T00:00:01.500Z')).toBe('1500');
    const e = parseEntry('1-0', ['type', 'alert', 'exp', '1500', 'body', '"alert":{}']) as FeedEvent;
    expect(isExpired(e, 1499)).toBe(false);
    expect(isExpired(e, 1500)).toBe(true);
    expect(isExpired({ ...e, expiresAt: 0 }, Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('members are the frame less type and eventId, serialized once for every reader', () => {
    expect(membersText(alertEvent('alert', payload))).toBe(`"alert":${JSON.stringify(payload)}`);
    expect(frameText('retract', '2-0', membersText(retractEvent('A', 'r')))).toBe('{"type":"retract","eventId":"2-0","id":"A","reason":"r"}');
  });

  it("reads the alert's priority from the frame text, not from a headline that mentions one", () => {
    const tricky = { ...payload, headline: '"priority":"routine"', priority: 'bulletin' as const };
    const e = parseEntry('3-0', fieldsOf(toEntry(alertEvent('update', tricky), tricky))) as FeedEvent;
    expect(priorityInFrame(e.frame)).toBe('bulletin');
    expect(priorityInFrame('{"type":"retract","eventId":"1-0","id":"A","reason":"r"}')).toBeUndefined();
  });

  it('control frames are one line of JSON, members in the order given', () => {
    expect(controlFrameText({ type: 'resync', reason: 'trimmed' })).toBe('{"type":"resync","reason":"trimmed"}');
    expect(controlFrameText({ type: 'error', code: 'invalid_frame', message: 'bad\nframe' })).toBe('{"type":"error","code":"invalid_frame","message":"bad\\nframe"}');
  });

  it('the append scripts write exactly these fields, in this order', () => {
    // The send's append is shared by the worker's script and the accept's.
    for (const file of ['includes/append-alert.lua', 'append-change-3.lua']) {
      const lua = fs.readFileSync(path.join(__dirname, '../../src/redis/lua', file), 'utf8');
      // XADD key MAXLEN ~ n * field value field value ...
      const pairs = /redis\.call\('XADD',[^)]*?'\*',([^)]*)\)/.exec(lua)?.[1] ?? '';
      const tokens = pairs.split(',').map((t) => t.trim());
      const written = tokens.filter((_, i) => i % 2 === 0).map((t) => t.replace(/^'|'$/g, ''));
      expect({ file, written }).toEqual({ file, written: [...ENTRY_FIELDS] });
    }
  });
});

describe('smaller frames for size-limited carriers', () => {
  it('drops the named alert members one more at a time, keeping the rest of the frame', () => {
    const alert = { ...payload, url: 'https://news.example/quake' };
    const frame = JSON.stringify({ type: 'alert', eventId: '1-0', alert });
    const out = [...framesWithoutAlertMembers(frame, ['summary', 'url'])];
    const { summary: _summary, ...withoutSummary } = alert;
    const { url: _url, ...withoutEither } = withoutSummary;
    expect(out).toEqual([JSON.stringify({ type: 'alert', eventId: '1-0', alert: withoutSummary }), JSON.stringify({ type: 'alert', eventId: '1-0', alert: withoutEither })]);
  });

  it('offers nothing for a frame with no alert', () => {
    expect([...framesWithoutAlertMembers('{"type":"retract","eventId":"1-0","id":"A","reason":"r"}', ['summary'])]).toEqual([]);
  });
});
