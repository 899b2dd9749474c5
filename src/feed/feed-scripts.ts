/**
 * The feed's write side: appending an alert's send, and a change to it (a
 * correction or retraction), each through its Lua script. This class is the
 * one place that knows those scripts' KEYS and ARGV order and maps their
 * replies to typed results, as BullMQ's `Scripts` class does for its own; the
 * fan-out worker and AlertChanges decide *what* to append and call it.
 *
 * The scripts themselves (append-send-2.lua, append-change-3.lua) sit with
 * every other script under src/redis/lua; their headers document the same
 * layouts as the argument builders below.
 */
import type { Redis } from 'ioredis';
import type { AlertPayload } from '../alert/schema';
import type { Keys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { alertEvent, type EventDraft } from './frame-text';
import { entryExpiry, entryTopics, toEntry, type EntrySubject, type EntryValues } from './feed-event';

export interface FeedLimits {
  /** The feed is trimmed (approximately) to this many entries. */
  maxEntries: number;
  /** And (approximately) to events younger than this. */
  retentionMs: number;
  /** An alert's record (and report) is deleted this long after its last change or its expiresAt. */
  recordRetentionMs: number;
}

/** The record's state a write was planned from; the script refuses the write ('stale') if it moved. */
export interface SendSubject extends EntrySubject {
  /** The record's revision; undefined before its first change. */
  rev?: string;
}

export interface ChangeSubject extends SendSubject {
  /** The status the change was planned from. */
  status: string;
}

export type AppendSendResult =
  | { outcome: 'appended' | 'duplicate'; eventId: string }
  | { outcome: 'skipped'; status: string }
  | { outcome: 'missing' | 'expired' }
  /** Corrected since the payload was read: read it again. */
  | { outcome: 'stale' };

export type AppendChangeResult =
  | { outcome: 'appended'; eventId: string }
  | { outcome: 'changed' | 'missing' | 'expired' }
  /** The status or revision moved since the change was planned: plan it again. */
  | { outcome: 'stale'; status: string };

/** A script answered something its header does not list: the script and this class disagree. */
export class FeedScriptReplyError extends Error {
  readonly code = 'FEED_SCRIPT_REPLY';
  constructor(script: string, reply: unknown) {
    super(`${script} answered ${JSON.stringify(reply)}`);
  }
}

type Reply = [string, string?];

export class FeedScripts {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly limits: FeedLimits,
  ) {}

  /**
   * Appends the `alert` event for `payload` (the alert as readers get it,
   * sentAt included) and marks the record sent, exactly once per alert.
   */
  async appendSend(subject: SendSubject, payload: AlertPayload, sentAt: string): Promise<AppendSendResult> {
    const reply = (await runScript(this.redis, 'appendSend', [this.keys.alert(subject.id), this.keys.feed], this.sendArgs(subject, payload, sentAt))) as Reply;
    return sendResult(reply);
  }

  /**
   * Sets `fields` on the record and, when `event` is given and the alert
   * is sent, appends it to the feed, in one atomic step. `event` is
   * undefined for changes readers never see (approval, rejection, a
   * correction before the send).
   */
  async appendChange(subject: ChangeSubject, event: EventDraft | undefined, fields: Record<string, string>): Promise<AppendChangeResult> {
    const reply = (await runScript(this.redis, 'appendChange', [this.keys.alert(subject.id), this.keys.feed, this.keys.report(subject.id)], this.changeArgs(subject, event, fields))) as Reply;
    return changeResult(reply);
  }

  /** append-send-2.lua's ARGV. */
  private sendArgs(subject: SendSubject, payload: AlertPayload, sentAt: string): (string | number)[] {
    const entry = alertEntry(subject, payload);
    return [
      entry.body,
      entry.topics,
      entry.exp,
      sentAt,
      this.limits.maxEntries,
      this.limits.retentionMs,
      subject.id,
      subject.rev ?? '0',
      this.limits.recordRetentionMs,
    ];
  }

  /** append-change-3.lua's ARGV. */
  private changeArgs(subject: ChangeSubject, event: EventDraft | undefined, fields: Record<string, string>): (string | number)[] {
    const entry = event && toEntry(event, subject);
    return [
      subject.status,
      subject.rev ?? '0',
      entry?.type ?? '',
      entry?.body ?? '',
      // Both even with no event: an expired alert takes no change.
      entryTopics(subject.topics),
      entryExpiry(subject.expiresAt),
      this.limits.maxEntries,
      this.limits.retentionMs,
      subject.id,
      this.limits.recordRetentionMs,
      ...Object.entries(fields).flat(),
    ];
  }
}

/**
 * The feed entry of an alert's send: what append-send-2.lua appends, and
 * what the accept script appends when it sends an alert itself.
 */
export function alertEntry(subject: EntrySubject, payload: AlertPayload): EntryValues {
  return toEntry(alertEvent('alert', payload), subject);
}

function sendResult(reply: Reply): AppendSendResult {
  const [outcome, detail] = reply;
  switch (outcome) {
    case 'appended':
    case 'duplicate':
      return { outcome, eventId: detail as string };
    case 'skipped':
      return { outcome, status: detail as string };
    case 'missing':
    case 'expired':
      return { outcome };
    case 'stale':
      return { outcome };
    default:
      throw new FeedScriptReplyError('append-send', reply);
  }
}

function changeResult(reply: Reply): AppendChangeResult {
  const [outcome, detail] = reply;
  switch (outcome) {
    case 'appended':
      return { outcome, eventId: detail as string };
    case 'stale':
      return { outcome, status: detail as string };
    case 'changed':
    case 'missing':
    case 'expired':
      return { outcome };
    default:
      throw new FeedScriptReplyError('append-change', reply);
  }
}
