/**
 * @flashwire/client: the Node client for Flashwire. `AlertStream` reads the
 * stream (at least once, resumable across restarts); `FlashwireApi` posts,
 * lists, reads, corrects and retracts over HTTP. Both take `{ url, key }`.
 */
export {
  AlertStream,
  StreamCredentialError,
  serviceUrl,
  type AlertStreamOptions,
  type ConnectionOptions,
  type ResyncEvent,
  type StreamEvent,
  type StreamState,
} from './alert-stream';
export { FlashwireApi, FlashwireApiError, type AlertPage, type FeedPage, type FieldError, type FlashwireApiOptions, type ProblemDocument } from './api-client';
export { backoffDelay, type BackoffOptions } from './backoff';
export { DEFAULT_HANDSHAKE_TIMEOUT_MS } from './handshake';
export { compareEventIds, eventTime, isEventId } from './event-id';
export type * from './types';
