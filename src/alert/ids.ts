import { monotonicFactory } from 'ulid';

/**
 * Alert ids are ULIDs: sortable by creation time, unique across processes,
 * URL-safe, and monotonic within a process so two alerts created in the same
 * millisecond still sort in the order they were accepted.
 */
const next = monotonicFactory();

export function newAlertId(now: number = Date.now()): string {
  return next(now);
}

export const ALERT_ID_PATTERN = /^[0-9A-HJKMNP-TV-Z]{26}$/;
