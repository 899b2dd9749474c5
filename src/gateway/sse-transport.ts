/**
 * The Server-Sent Events transport. Like the WebSocket transport, each feed
 * event becomes bytes once per gateway (cached on the event) and the same
 * buffer is written to every stream: `id:` is the eventId, `event:` its type
 * and `data:` exactly the WebSocket frame (frames are one-line JSON).
 */
import type { ServerResponse } from 'node:http';
import type { FeedEvent } from '../feed/feed-event';
import { controlFrameText } from '../feed/frame-text';
import type { ServerFrame } from '../protocol/frames';
import type { Transport } from './transport';

const sseBytes = new WeakMap<FeedEvent, Buffer>();

function sseEventBytes(e: FeedEvent): Buffer {
  let b = sseBytes.get(e);
  if (!b) {
    b = Buffer.from(`id: ${e.eventId}\nevent: ${e.type}\ndata: ${e.frame}\n\n`);
    sseBytes.set(e, b);
  }
  return b;
}

/**
 * Control frames carry no eventId, hence no `id:` line (which would move
 * Last-Event-ID), except `resync`: its `id:` is where the reader now carries
 * on from, so an EventSource reconnecting later forgets the cursor that could
 * not be honoured.
 */
function sseControlText(frame: ServerFrame, cursor?: string): string {
  return `${cursor !== undefined ? `id: ${cursor}\n` : ''}event: ${frame.type}\ndata: ${controlFrameText(frame)}\n\n`;
}

/** A comment line: ignored by EventSource, but it keeps proxies from timing the stream out. */
const SSE_HEARTBEAT = ': hb\n\n';

export class SseTransport implements Transport {
  private ended = false;
  /** The close code the stream ended with (SSE cannot carry it; kept for logs and tests). */
  closeCode: number | undefined;

  constructor(readonly res: ServerResponse) {}

  get bufferedAmount(): number {
    // Includes what the socket holds in user space, not only the response.
    return this.res.writableLength;
  }

  get isOpen(): boolean {
    return !this.ended && !this.res.destroyed;
  }

  sendEvent(e: FeedEvent): void {
    if (this.isOpen) this.res.write(sseEventBytes(e));
  }

  sendControl(frame: ServerFrame, cursor?: string): void {
    if (this.isOpen) this.res.write(sseControlText(frame, cursor));
  }

  heartbeat(): void {
    if (this.isOpen) this.res.write(SSE_HEARTBEAT);
  }

  close(code: number, _reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.closeCode = code;
    const res = this.res;
    res.end();
    // A peer that never reads never lets the end through; free its buffers.
    setTimeout(() => res.destroy(), 2000).unref();
  }

  /** Marks the stream over when the peer went away first. */
  markEnded(): void {
    this.ended = true;
  }

  async drainedBelow(bytes: number): Promise<void> {
    while (this.isOpen && this.res.writableLength > bytes) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
