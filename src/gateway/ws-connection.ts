/**
 * One WebSocket connection to the stream endpoint: `ws`'s own socket object,
 * carrying the endpoint's per-connection state, so a connection is one
 * object rather than a socket plus a state record plus a closure per event.
 *
 * Its events go straight to the endpoint's shared handlers: `emit` is
 * overridden, so no listener is registered per connection (each would be a
 * closure and an entry in the socket's listener table). Idle connections
 * are most of a gateway's memory: what only some of them need (rate
 * windows, frames held before welcome, an expiry timer) is made on first use.
 */
import type { RawData } from 'ws';
import { WebSocket } from 'ws';
import type { Principal } from '../auth/principal';
import type { RateWindow } from './rate-window';
import type { Reader } from './reader';
import type { WsTransport } from './ws-transport';

/** What a connection's events are handed to: one object for all connections. */
export interface WsConnectionHandler {
  onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void;
  onPing(conn: WsConnection, data: Buffer): void;
  onPong(conn: WsConnection, data: Buffer): void;
  onClose(conn: WsConnection, code: number): void;
}

export class WsConnection extends WebSocket {
  /** Set as soon as `ws` hands the connection over, before any event can fire. */
  handler: WsConnectionHandler | undefined = undefined;
  /** Set once `welcome` is written: frames are taken from then on. */
  reader: Reader | undefined = undefined;
  transport: WsTransport | undefined = undefined;
  principal: Principal | undefined = undefined;
  /** The heartbeat tick it was pinged at and has not answered since (0: answered); a number costs what a flag did. */
  pingedAt = 0;
  messages: RateWindow | undefined = undefined;
  badFrames: RateWindow | undefined = undefined;
  /** Frames that came before welcome, held until it; made for the first one. */
  early: [RawData, boolean][] | undefined = undefined;
  expiryTimer: NodeJS.Timeout | undefined = undefined;

  override emit(event: string | symbol, ...args: unknown[]): boolean {
    const h = this.handler;
    if (!h) return event === 'error' ? true : super.emit(event, ...args);
    switch (event) {
      case 'message':
        h.onMessage(this, args[0] as RawData, args[1] as boolean);
        return true;
      case 'ping':
        h.onPing(this, args[0] as Buffer);
        return true;
      case 'pong':
        h.onPong(this, args[0] as Buffer);
        return true;
      case 'close':
        h.onClose(this, args[0] as number);
        return super.emit(event, ...args);
      case 'error':
        // A broken connection also closes; 'close' does the cleanup.
        return true;
      default:
        return super.emit(event, ...args);
    }
  }
}
