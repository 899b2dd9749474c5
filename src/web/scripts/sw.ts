/**
 * The service worker at /sw.js: shows Flashwire's pushes as notifications
 * while no tab is open. A push carries the stream frame: an `alert` or
 * `update` shows (or replaces, by tag = alert id) the notification; a
 * `retract` closes it. A click opens the alert's url, or the reader page.
 *
 * Type-checked with the page scripts (DOM lib); the worker-only types it
 * uses are declared here.
 */
import { TOPICS_CACHE, TOPICS_URL } from './push-offer';

interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown; text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface PushSubscriptionChangeEvent extends ExtendableEvent {
  readonly oldSubscription: PushSubscription | null;
  readonly newSubscription: PushSubscription | null;
}
interface WindowClient {
  url: string;
  focus(): Promise<WindowClient>;
}
interface WorkerScope {
  registration: ServiceWorkerRegistration;
  clients: { claim(): Promise<void>; openWindow(url: string): Promise<WindowClient | null>; matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]> };
  location: Location;
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: 'push', fn: (e: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', fn: (e: NotificationEvent) => void): void;
  addEventListener(type: 'pushsubscriptionchange', fn: (e: PushSubscriptionChangeEvent) => void): void;
}

interface AlertLike {
  id: string;
  headline: string;
  summary?: string;
  url?: string;
  priority?: string;
  sentAt?: string;
}
type Frame = { type: 'alert' | 'update'; eventId: string; alert: AlertLike } | { type: 'retract'; eventId: string; id: string; reason: string };

const sw = self as unknown as WorkerScope;

sw.addEventListener('install', () => void sw.skipWaiting());
sw.addEventListener('activate', (e) => e.waitUntil(sw.clients.claim()));

function safeUrl(url: string | undefined): string {
  try {
    const u = new URL(url ?? '/', sw.location.origin);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : '/';
  } catch {
    return '/';
  }
}

async function show(frame: Frame): Promise<void> {
  if (frame.type === 'retract') {
    for (const n of await sw.registration.getNotifications({ tag: frame.id })) n.close();
    return;
  }
  const a = frame.alert;
  // Notification text is plain text: nothing in a headline is ever markup.
  await sw.registration.showNotification(a.headline, {
    body: a.summary ?? '',
    tag: a.id,
    icon: '/assets/icon.svg',
    data: { url: safeUrl(a.url), id: a.id, eventId: frame.eventId },
    requireInteraction: a.priority === 'flash',
  } as NotificationOptions);
}

sw.addEventListener('push', (e) => {
  let frame: Frame | undefined;
  try {
    frame = e.data?.json() as Frame | undefined;
  } catch {
    frame = undefined;
  }
  if (frame && (frame.type === 'alert' || frame.type === 'update' || frame.type === 'retract')) e.waitUntil(show(frame));
});

sw.addEventListener('notificationclick', (e) => {
  e.notification.close();
  const url = (e.notification.data as { url?: string } | null)?.url ?? '/';
  e.waitUntil(
    (async () => {
      const reader = new URL('/', sw.location.origin).href;
      if (url === reader || url === '/') {
        const open = (await sw.clients.matchAll({ type: 'window', includeUncontrolled: true })).find((c) => new URL(c.url).pathname === '/');
        if (open) return open.focus();
      }
      return sw.clients.openWindow(url);
    })(),
  );
});

// The browser renewed the subscription: tell Flashwire, with the topics the page left.
sw.addEventListener('pushsubscriptionchange', (e) => {
  e.waitUntil(
    (async () => {
      const stored = await (await caches.open(TOPICS_CACHE)).match(TOPICS_URL);
      const topics = stored ? ((await stored.json()) as string[]) : ['*'];
      const next = e.newSubscription ?? (e.oldSubscription?.options ? await sw.registration.pushManager.subscribe(e.oldSubscription.options) : null);
      if (e.oldSubscription) await fetch('/v1/push/subscriptions', { method: 'DELETE', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ endpoint: e.oldSubscription.endpoint }) });
      if (next) await fetch('/v1/push/subscriptions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ subscription: next.toJSON(), topics }) });
    })(),
  );
});
