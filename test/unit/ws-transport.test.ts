import type { WebSocket } from 'ws';
import { parseEntry } from '../../src/feed/feed-event';
import { WsTransport } from '../../src/gateway/ws-transport';

/** A stand-in socket that records what it is asked to send. */
function recordingSocket() {
  const sent: unknown[] = [];
  const ws = { send: (data: unknown) => sent.push(data), bufferedAmount: 0, readyState: 1, OPEN: 1, CLOSED: 3 } as unknown as WebSocket;
  return { ws, sent };
}

describe('WsTransport', () => {
  it('serializes a feed event once and writes the same bytes to every socket', () => {
    const event = parseEntry('1700000000000-0', ['type', 'alert', 'alert', 'A1', 'topics', 'world', 'exp', '', 'body', '"alert":{"id":"A1","headline":"H"}'])!;
    const sockets = Array.from({ length: 3 }, recordingSocket);
    for (const s of sockets) new WsTransport(s.ws).sendEvent(event);
    const first = sockets[0]!.sent[0];
    expect(Buffer.isBuffer(first)).toBe(true);
    for (const s of sockets) expect(s.sent[0]).toBe(first);
    expect(JSON.parse(String(first))).toEqual({ type: 'alert', eventId: '1700000000000-0', alert: { id: 'A1', headline: 'H' } });
  });
});
