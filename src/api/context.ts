import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../../config/settings';
import type { ApiKeyStore } from '../auth/api-keys';
import type { Authenticator } from '../auth/authenticator';
import type { SendJobData } from '../queue/alert-queue';
import type { PushSubscriptionStore } from '../push/subscriptions';
import type { Keys } from '../redis/keys';
import type { AlertChanges } from '../store/alert-changes';
import type { AlertStore } from '../store/alert-store';
import type { Audience } from '../store/audience';
import type { LookupAll } from '../webhooks/ssrf';

/** What the API's handlers need; built once by the api role. */
export interface ApiContext {
  settings: Settings;
  log: Logger;
  redis: Redis;
  keys: Keys;
  alerts: AlertStore;
  apiKeys: ApiKeyStore;
  /** API keys and subscriber tokens, for the read paths. */
  authenticator: Authenticator;
  changes: AlertChanges;
  queue: Queue<SendJobData>;
  /** Reader counts from every gateway, plus webhooks and push where configured. */
  audience: Audience;
  /** Web Push: the VAPID public key browsers subscribe with, and where subscriptions are kept. */
  push?: { publicKey: string; subscriptions: PushSubscriptionStore };
  /** How webhook hosts are resolved for the SSRF check (tests inject one). */
  webhookLookup?: LookupAll;
}
