/**
 * Key revocations, announced on a Redis channel by `ApiKeyStore.revoke`.
 * The API needs none of this (it looks keys up on every request); gateways
 * listen so that readers already connected with a revoked key are closed
 * with 4001 at once, not at their next reconnect.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Longer than the gap between a gateway's key lookup and the reader's registration (a few ms). */
const RESWEEP_MS = 1000;

export class RevocationListener {
  private started = false;

  constructor(
    /** A dedicated connection: a subscribed connection can do nothing else. */
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly onRevoked: (keyName: string) => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // ioredis re-subscribes by itself after a reconnect.
    this.subscriber.on('message', (channel: string, name: string) => {
      if (channel !== this.channel) return;
      this.log.info({ key: name }, 'API key revoked; closing its readers');
      this.onRevoked(name);
      // A reader whose key was looked up just before the revocation may
      // register a moment after this message; a second sweep catches it.
      setTimeout(() => this.onRevoked(name), RESWEEP_MS).unref();
    });
    await this.subscriber.subscribe(this.channel);
  }
}
