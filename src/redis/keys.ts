/**
 * Every Redis key Flashwire uses is built here, so the whole keyspace can be
 * read in one place and a prefix (or a Cluster hash tag) changes it all.
 */
export class Keys {
  constructor(readonly prefix: string) {}

  /** The feed: one Redis Stream, the ordered log of every event. */
  get feed(): string {
    return `${this.prefix}:feed`;
  }

  /** An alert's record: a hash of its fields, status and audit trail. */
  alert(id: string): string {
    return `${this.prefix}:alert:${id}`;
  }

  /** Per-alert delivery counters and latency figures written by gateways. */
  report(id: string): string {
    return `${this.prefix}:report:${id}`;
  }

  /** Idempotency record for one publishing key and one Idempotency-Key. */
  idempotency(keyName: string, idemKey: string): string {
    return `${this.prefix}:idem:${keyName}:${idemKey}`;
  }

  /** Hashed API keys: hash of secret-hash -> JSON record. */
  get apiKeys(): string {
    return `${this.prefix}:apikeys`;
  }

  /** Key name -> secret hash, so keys can be listed and revoked by name. */
  get apiKeyNames(): string {
    return `${this.prefix}:apikeys:names`;
  }

  /** Fixed-window publish counter for one key. */
  rate(keyName: string, window: number): string {
    return `${this.prefix}:rate:${keyName}:${window}`;
  }

  /** Channel on which key revocations are announced to every process. */
  get revocations(): string {
    return `${this.prefix}:revocations`;
  }

  /** Ids of every webhook endpoint (a set). */
  get webhooks(): string {
    return `${this.prefix}:webhooks`;
  }

  /** One webhook endpoint: a hash of its settings, secrets, status and cursor. */
  webhook(id: string): string {
    return `${this.prefix}:webhook:${id}`;
  }

  /** The last attempts to deliver to one webhook endpoint (a capped list, newest first). */
  webhookAttempts(id: string): string {
    return `${this.prefix}:webhook:${id}:attempts`;
  }

  /** Which worker process delivers to one webhook endpoint (a lease with a TTL). */
  webhookLease(id: string): string {
    return `${this.prefix}:webhook:${id}:lease`;
  }

  /** The prefix BullMQ builds its own keys under. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
