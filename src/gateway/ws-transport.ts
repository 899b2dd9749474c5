/**
 * The WebSocket transport. Each feed event is turned into bytes once per
 * gateway (cached on the event) and the same buffer is written to every
 * socket.
 */
import type { WebSocket } from 'ws';
import type { FeedEvent } from '../feed/feed-event';
import type { ServerFrame } from '../protocol/frames';
import type { Transport } from './transport';

const wsBytes = new WeakMap<FeedEvent, Buffer>();

function bytesOf(e: FeedEvent): Buffer {
  let b = wsBytes.get(e);
  if (!b) {
    b = Buffer.from(e.frame);
    wsBytes.set(e, b);
  }
  return b;
}

const TEXT = { binary: false } as const;

export class WsTransport implements Transport {
  constructor(readonly ws: WebSocket) {}

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  sendEvent(e: FeedEvent): void {
    this.ws.send(bytesOf(e), TEXT);
  }

  sendControl(frame: ServerFrame): void {
    this.ws.send(JSON.stringify(frame));
  }

  close(code: number, reason: string): void {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return;
    ws.close(code, reason);
    // A peer that never reads will never complete the closing handshake;
    // free its buffers soon rather than after ws's 30 s timeout.
    setTimeout(() => ws.terminate(), 2000).unref();
  }

  async drainedBelow(bytes: number): Promise<void> {
    while (this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount > bytes) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
