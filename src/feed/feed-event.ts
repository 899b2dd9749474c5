/**
 * One feed event as gateways and pollers hold it: parsed once from the
 * stream entry, with its wire frame serialized once, shared by every socket.
 */
export type FeedEventType = 'alert' | 'update' | 'retract';

export interface FeedEvent {
  readonly eventId: string;
  readonly type: FeedEventType;
  readonly alertId: string;
  readonly topics: readonly string[];
  /** expiresAt in ms since the epoch; 0 for none. */
  readonly expiresAt: number;
  /** The complete wire frame, JSON text. */
  readonly frame: string;
}

/** Builds the wire frame from the stream entry without re-serializing the alert. */
export function buildFrame(type: string, eventId: string, members: string): string {
  return `{"type":"${type}","eventId":"${eventId}",${members}}`;
}

/** Parses an XRANGE/XREAD entry: [id, [field, value, ...]]. */
export function parseEntry(id: string, fields: string[]): FeedEvent | undefined {
  let type = '';
  let alertId = '';
  let topics = '';
  let exp = '';
  let body = '';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1] as string;
    switch (fields[i]) {
      case 'type': type = v; break;
      case 'alert': alertId = v; break;
      case 'topics': topics = v; break;
      case 'exp': exp = v; break;
      case 'body': body = v; break;
    }
  }
  if (type !== 'alert' && type !== 'update' && type !== 'retract') return undefined;
  return {
    eventId: id,
    type,
    alertId,
    topics: topics === '' ? [] : topics.split(','),
    expiresAt: exp === '' ? 0 : Number(exp),
    frame: buildFrame(type, id, body),
  };
}

export function isExpired(e: FeedEvent, now: number): boolean {
  return e.expiresAt !== 0 && e.expiresAt <= now;
}
