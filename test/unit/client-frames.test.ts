import { parseClientFrame } from '../../src/gateway/client-frames';

const parse = (text: string, binary = false) => parseClientFrame(Buffer.from(text), binary);

describe('client frames', () => {
  it('accepts subscribe, unsubscribe, ping and ack', () => {
    expect(parse('{"type":"subscribe","topics":["world"]}')).toEqual({ ok: true, frame: { type: 'subscribe', topics: ['world'] } });
    expect(parse('{"type":"unsubscribe","topics":["world"]}')).toMatchObject({ ok: true, frame: { type: 'unsubscribe' } });
    expect(parse('{"type":"ping"}')).toEqual({ ok: true, frame: { type: 'ping' } });
    expect(parse('{"type":"ack","eventId":"1714000000000-0"}')).toMatchObject({ ok: true, frame: { type: 'ack', eventId: '1714000000000-0' } });
  });

  it.each([
    ['binary', '{"type":"ping"}', true, /binary/],
    ['not JSON', '{type:ping', false, /not valid JSON/],
    ['not an object', '[1,2]', false, /JSON object/],
    ['null', 'null', false, /JSON object/],
    ['no type', '{"topics":["a"]}', false, /unknown frame type/],
    ['unknown type', '{"type":"hello"}', false, /unknown frame type "hello"/],
    ['unknown field', '{"type":"ping","extra":1}', false, /unknown field\(s\) extra/],
    ['topics not a list', '{"type":"subscribe","topics":"world"}', false, /invalid subscribe frame: topics/],
    ['empty topics', '{"type":"subscribe","topics":[]}', false, /at least one topic/],
    ['bad ack eventId', '{"type":"ack","eventId":"x"}', false, /eventId/],
  ])('refuses %s with a message that says how to fix it', (_name, text, binary, message) => {
    const r = parse(text, binary);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(message);
  });
});
