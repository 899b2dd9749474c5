/**
 * What a reader is written to: a WebSocket or an SSE response. The reader
 * logic (topics, resume, slow-reader policy) is the same for both.
 */
import type { FeedEvent } from '../feed/feed-event';
import type { ServerFrame } from '../protocol/frames';

export interface Transport {
  /** Bytes accepted but not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Writes a feed event using its shared, once-per-event serialization. */
  sendEvent(event: FeedEvent): void;
  /**
   * Writes a control frame (welcome, resync, error, ...). `cursor`, where
   * given, is the position the reader now resumes from (SSE writes it as the
   * `id:`, which moves Last-Event-ID; WebSocket frames carry no cursor).
   */
  sendControl(frame: ServerFrame, cursor?: string): void;
  /** Closes with a WebSocket close code (SSE ends the response). */
  close(code: number, reason: string): void;
  /** Resolves once the buffer has drained below `bytes`, or the transport closed. */
  drainedBelow(bytes: number): Promise<void>;
}
