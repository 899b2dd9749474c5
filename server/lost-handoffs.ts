/**
 * Closes the connections node:cluster handed to a gateway process that died
 * before it took them.
 *
 * The primary accepts each connection and passes it to a worker, keeping its
 * own copy until the worker answers that it accepted it. A worker killed in
 * between never answers, and Node (20 and later, as of this writing) keeps
 * that copy open for good: the client's TCP connection is up, nobody reads
 * it, nobody closes it. A connection handed over between the kill and the
 * primary noticing it is lost the same way. Under a gateway kill that was
 * one reader in most storms, back only when its client's handshake limit
 * (30 s) gave up on it.
 * Closing the copy lets the client see the close at once and come back with
 * `since` through its backoff, like every other reader of that process.
 *
 * It follows the primary's own messages to the worker: a connection goes
 * out as `{ cmd: 'NODE_CLUSTER', act: 'newconn', seq }` with its handle, and
 * the worker's answer comes back as an internal message with `ack: seq`.
 * Whatever was sent and not answered is closed once the worker's process
 * has closed: it has exited and its channel has been read to the end, so an
 * answer it sent before dying has been seen and that handle left to Node.
 * If a Node release changes those messages, nothing is tracked and nothing
 * is closed, which is what Node does itself; the fault test that kills a
 * gateway process under a stream of connections would then fail.
 */
import type { Worker } from 'node:cluster';

interface ClusterMessage {
  cmd?: unknown;
  act?: unknown;
  seq?: unknown;
  ack?: unknown;
}

interface ClosableHandle {
  close(): void;
}

type Send = (message: unknown, handle?: unknown, ...rest: unknown[]) => boolean;

/** Tracks the connections handed to `worker` until it answers for them; closes the rest once it is gone. */
export function closeLostHandoffs(worker: Worker): void {
  const proc = worker.process as unknown as { send: Send; on(event: 'internalMessage', fn: (m: unknown) => void): void; once(event: 'close', fn: () => void): void };
  const unanswered = new Map<number, ClosableHandle>();
  const send = proc.send;
  proc.send = function (this: unknown, message: unknown, handle?: unknown, ...rest: unknown[]): boolean {
    const m = message as ClusterMessage | null;
    if (handle && m?.cmd === 'NODE_CLUSTER' && m.act === 'newconn' && typeof m.seq === 'number' && typeof (handle as ClosableHandle).close === 'function') {
      unanswered.set(m.seq, handle as ClosableHandle);
    }
    return send.call(this, message, handle, ...rest);
  };
  proc.on('internalMessage', (message) => {
    const m = message as ClusterMessage | null;
    if (m?.cmd === 'NODE_CLUSTER' && typeof m.ack === 'number') unanswered.delete(m.ack);
  });
  proc.once('close', () => {
    for (const handle of unanswered.values()) handle.close();
    unanswered.clear();
  });
}
