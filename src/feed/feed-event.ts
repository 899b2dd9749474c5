/**
 * One feed event as gateways and pollers hold it: parsed once from the
 * stream entry, with its wire frame serialized once, shared by every socket.
 * This module also owns the entry's layout, both ways: the values an append
 * script writes, and the event read back from them.
 */
import { frameText, membersText, type EventDraft } from './frame-text';

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

/**
 * A stream entry's fields, in the order the append scripts' XADD writes
 * them (Lua cannot import this list; a unit test holds them to it).
 */
export const ENTRY_FIELDS = ['type', 'alert', 'topics', 'exp', 'body'] as const;
export type EntryField = (typeof ENTRY_FIELDS)[number];

/** What one entry stores, field by field, as text. */
export type EntryValues = Record<EntryField, string>;

/** The alert an event is about, as much of it as the entry records besides the frame. */
export interface EntrySubject {
  id: string;
  topics: readonly string[];
  /** ISO-8601, as the alert carries it. */
  expiresAt?: string;
}

/** Topics as the entry's `topics` holds them: comma separated (a topic has no comma). */
export function entryTopics(topics: readonly string[]): string {
  return topics.join(',');
}

/** `expiresAt` as the entry's `exp` holds it: ms since the epoch, or '' for none. */
export function entryExpiry(expiresAt: string | undefined): string {
  return expiresAt ? String(Date.parse(expiresAt)) : '';
}

/** The entry for an event about `subject`; its body is the frame's members, serialized here, once. */
export function toEntry(event: EventDraft, subject: EntrySubject): EntryValues {
  return {
    type: event.type,
    alert: subject.id,
    topics: entryTopics(subject.topics),
    exp: entryExpiry(subject.expiresAt),
    body: membersText(event),
  };
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
    switch (fields[i] as EntryField) {
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
    frame: frameText(type, id, body),
  };
}

export function isExpired(e: FeedEvent, now: number): boolean {
  return e.expiresAt !== 0 && e.expiresAt <= now;
}
