/**
 * Key revocations, announced on a Redis channel by `ApiKeyStore.revoke`.
 * The API needs none of this (it looks keys up on every request, and POST
 * /v1/alerts re-checks its cached key in the script that accepts); gateways
 * listen so that readers already connected with a revoked key are closed
 * with 4001 at once, not at their next reconnect.
 *
 * A message published while this listener's link is down is lost (pub/sub
 * keeps nothing), so the listener also asks for a re-check of every
 * key-authenticated reader when the link comes back, and every `recheckMs`:
 * no revocation can be missed for longer than that.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Longer than the gap between a gateway's key lookup and the reader's registration (a few ms). */
const RESWEEP_MS = 1000;

export interface RevocationListenerOptions {
  /** Re-checks every key-authenticated reader against the stored keys; resolves with how many it closed. */
  recheck?: () => Promise<number>;
  /** How often to re-check besides reconnects; 0 for never. */
  recheckMs?: number;
}

export class RevocationListener {
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    /** A dedicated connection: a subscribed connection can do nothing else. */
    private readonly subscriber: Redis,
    private readonly channel: string,
    private readonly onRevoked: (keyName: string) => void,
    private readonly log: Logger,
    private readonly options: RevocationListenerOptions = {},
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
    // 'ready' again means the link was lost and is back: anything announced
    // meanwhile was missed. Once subscribed again (so nothing later can be
    // missed either), re-check.
    this.subscriber.on('ready', () => {
      if (!this.started) return;
      this.subscriber.subscribe(this.channel).then(
        () => this.recheck('pub/sub link back'),
        () => undefined,
      );
    });
    const every = this.options.recheckMs ?? 0;
    if (this.options.recheck && every > 0) {
      this.timer = setInterval(() => this.recheck('periodic'), every);
      this.timer.unref();
    }
  }

  /** Runs one re-check (never two at once); failures are logged and retried at the next one. */
  recheck(why: string): Promise<void> {
    const run = this.options.recheck;
    if (!run || !this.started) return Promise.resolve();
    this.checking ??= run()
      .then(
        (closed) => {
          if (closed) this.log.info({ closed, why }, 'key re-check closed readers of revoked keys');
        },
        (err: unknown) => this.log.warn({ err: String(err), why }, 'key re-check failed; will retry'),
      )
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
