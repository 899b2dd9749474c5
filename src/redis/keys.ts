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

  /** Alert ids whose record is written but whose send job is not yet queued (sorted by creation ms). */
  get unqueued(): string {
    return `${this.prefix}:unqueued`;
  }

  /** The BullMQ job hash of an alert's send (its job id is the alert id). */
  sendJob(queueName: string, alertId: string): string {
    return `${this.bullPrefix}:${queueName}:${alertId}`;
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

  /** Fixed-window counter of anonymous GET /v1/feed requests from one client address. */
  feedRate(address: string, window: number): string {
    return `${this.prefix}:feedrate:${address}:${window}`;
  }

  /** Channel on which key revocations are announced to every process. */
  get revocations(): string {
    return `${this.prefix}:revocations`;
  }

  /** The prefix BullMQ builds its own keys under. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
}
