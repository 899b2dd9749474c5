/**
 * Which requested subscriptions a reader gets. Invalid ones are refused
 * with `invalid_topic`, private ones the credential does not grant with
 * `forbidden_topic` (the one rule, auth/grants.ts); the reader keeps the rest.
 */
import { isValidSubscription } from '../alert/topics';
import { mayRead } from '../auth/grants';
import type { Principal } from '../auth/principal';
import type { StreamErrorCode } from '../protocol/frames';

export interface Refusal {
  topic: string;
  code: StreamErrorCode;
  message: string;
}

export function grant(principal: Principal | undefined, requested: readonly string[]): { granted: string[]; refused: Refusal[] } {
  const granted: string[] = [];
  const refused: Refusal[] = [];
  for (const t of requested) {
    if (!isValidSubscription(t)) {
      refused.push({ topic: t, code: 'invalid_topic', message: `"${truncate(t)}" is not a valid topic (lowercase words separated by "/", or "*")` });
    } else if (!mayRead(principal, t)) {
      refused.push({ topic: t, code: 'forbidden_topic', message: `"${t}" needs a subscriber credential that grants it` });
    } else {
      granted.push(t);
    }
  }
  return { granted, refused };
}

function truncate(s: string): string {
  return s.length > 64 ? s.slice(0, 64) + '…' : s;
}
