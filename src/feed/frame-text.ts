/**
 * The text of every server frame; this module is its only author.
 *
 * An event frame's (`alert`, `update`, `retract`) members, everything after
 * `type` and `eventId`, are serialized once, when the event is appended,
 * and stored in the feed entry; a reader's frame is that text with `type`
 * and `eventId` put in front, so the alert is never serialized again,
 * however many processes and sockets read it. Control frames (welcome,
 * resync, error, ...) belong to one connection and are written as they go.
 */
import type { AlertPayload } from '../alert/schema';
import type { EventFrame, ServerFrame } from '../protocol/frames';

/**
 * A control frame's text: one line of JSON, members in the order given.
 * (Event frames never come this way: they arrive from the feed as text.)
 */
export function controlFrameText(frame: ServerFrame): string {
  return JSON.stringify(frame);
}

/** A frame's members as the protocol types them: the frame less `type` and `eventId`. */
export type FrameMembers<F extends EventFrame> = Omit<F, 'type' | 'eventId'>;

/** What an event appended to the feed says, before it has an eventId. */
export type EventDraft =
  | ({ type: 'alert' } & FrameMembers<Extract<EventFrame, { type: 'alert' }>>)
  | ({ type: 'update' } & FrameMembers<Extract<EventFrame, { type: 'update' }>>)
  | ({ type: 'retract' } & FrameMembers<Extract<EventFrame, { type: 'retract' }>>);

/** `alert` and `update` frames carry the alert as it is now. */
export function alertEvent(type: 'alert' | 'update', alert: AlertPayload): EventDraft {
  return { type, alert };
}

/** A `retract` frame names the alert and says why. */
export function retractEvent(id: string, reason: string): EventDraft {
  return { type: 'retract', id, reason };
}

/**
 * The members' JSON text, as stored in the entry's body: an object's text
 * without its braces, in the protocol's order (alert; id then reason), the
 * order the wire has always had.
 */
export function membersText(e: EventDraft): string {
  if (e.type === 'retract') return `"id":${JSON.stringify(e.id)},"reason":${JSON.stringify(e.reason)}`;
  return `"alert":${JSON.stringify(e.alert)}`;
}

/** The complete frame from an entry's type, id and stored members, without re-serializing them. */
export function frameText(type: string, eventId: string, members: string): string {
  return `{"type":"${type}","eventId":"${eventId}",${members}}`;
}

/**
 * Smaller versions of a frame for carriers with a size limit (Web Push):
 * the frame without the alert's first named member, then without the first
 * two, and so on. Nothing for a frame that carries no alert.
 */
export function* framesWithoutAlertMembers(frame: string, names: readonly string[]): Generator<string> {
  const parsed = JSON.parse(frame) as { alert?: Record<string, unknown> };
  if (!parsed.alert) return;
  for (const name of names) {
    delete parsed.alert[name];
    yield JSON.stringify(parsed);
  }
}

const PRIORITY_IN_FRAME = /"priority":"([a-z]+)"/;

/**
 * The alert's priority as an `alert` or `update` frame's text carries it,
 * read without parsing the frame (once per event, for metrics and push).
 * The payload's first "priority" member is the alert's own: it follows
 * id, headline and topics, and a quote inside a string is escaped.
 */
export function priorityInFrame(frame: string): string | undefined {
  return PRIORITY_IN_FRAME.exec(frame)?.[1];
}
