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

  /**
   * One of BullMQ's own keys for a queue (`wait`, `active`, `meta`, …): the
   * accept script reads whether the queue is idle. BullMQ 5's layout.
   */
  queueKey(queueName: string, name: 'wait' | 'paused' | 'active' | 'prioritized' | 'meta'): string {
    return `${this.bullPrefix}:${queueName}:${name}`;
  }

  /** Running fan-out workers: worker id scored by the ms its claim lapses unless renewed. */
  get workers(): string {
    return `${this.prefix}:workers`;
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

  /** One gateway process's reader counts per subscription set, refreshed every second (short TTL). */
  audience(gatewayId: string): string {
    return `${this.prefix}:audience:${gatewayId}`;
  }

  /** Gateways that publish audience counts: gatewayId scored by its last publish (ms). */
  get audienceGateways(): string {
    return `${this.prefix}:audience:gateways`;
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

  /** Web Push: the VAPID key pair (JSON), made on first start. */
  get vapidKeys(): string {
    return `${this.prefix}:push:vapid`;
  }

  /** Web Push: one subscription's record (hash: endpoint, keys, topics). */
  pushSubscription(id: string): string {
    return `${this.prefix}:push:sub:${id}`;
  }

  /** Web Push: the ids of the subscriptions holding one topic (or `*`), so an alert finds only its own. */
  pushTopic(topic: string): string {
    return `${this.prefix}:push:topic:${topic}`;
  }

  /** Web Push: every subscription id (a set), for counting and the bound on how many may exist. */
  get pushSubscriptions(): string {
    return `${this.prefix}:push:subs`;
  }

  /** Web Push: the sender's durable feed cursor (the last event fully handled). */
  get pushCursor(): string {
    return `${this.prefix}:push:cursor`;
  }

  /** Web Push: the lease naming the one worker that sends (token, with an expiry). */
  get pushLease(): string {
    return `${this.prefix}:push:lease`;
  }

  /** Web Push: pushes waiting for a retry (sorted set by due time; member `subId alertId`). */
  get pushRetryDue(): string {
    return `${this.prefix}:push:retry:due`;
  }

  /** Web Push: what each waiting retry sends (hash: member -> eventId, attempt, deadline). */
  get pushRetryData(): string {
    return `${this.prefix}:push:retry:data`;
  }
}
