/**
 * Web Push in a real headless Chromium: the reader page's offer, the
 * service worker at /sw.js, and pushes delivered through the DevTools
 * protocol (this machine cannot reach a browser push service, which the
 * page must say plainly). The pushes are real frames from the feed.
 */
import { createECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { getJson, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';
import { launchChromium } from './chromium';

// Callbacks passed to page.evaluate run in the page; these names are theirs.
declare const navigator: any;
declare const window: any;
declare const PushManager: any;

/** Long enough for a worker starting on a loaded two-core machine. */
const WAIT_MS = 30_000;
/** A delivery unanswered this long is taken as dropped and sent again. */
const REDELIVER_MS = 5_000;

/** Polls `probe` until it returns a value; fails after `timeoutMs` saying what never came. */
async function waitUntil<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, detail: () => string = () => '', timeoutMs = WAIT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}; ${detail()}`.replace(/; $/, ''));
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Shown {
  title: string;
  body: string;
  tag: string;
  data: { url?: string } | null;
}

describe('Web Push in Chromium', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;

  beforeAll(async () => {
    redis = await startRedis();
    // Private endpoints allowed: the unsubscribe test's push-service stand-in listens on 127.0.0.1.
    svc = await startService(redis.url, { FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000', FLASHWIRE_PUSH_ALLOW_PRIVATE: 'true' });
    browser = await launchChromium();
    context = await browser.newContext();
    page = await context.newPage();
    cdp = await context.newCDPSession(page);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await redis?.cleanup();
  });

  /** The frame the feed holds for this alert's latest event of `type`. */
  async function frameOf(alertId: string, type: string): Promise<Record<string, any>> {
    return waitUntil(`a ${type} event for ${alertId} in the feed`, async () => {
      const feed = await getJson(`${svc.url}/v1/feed?topics=*&limit=500`);
      return (feed.body.events as Record<string, any>[]).filter((e) => e.type === type && (e.alert?.id ?? e.id) === alertId).pop();
    });
  }

  const notifications = (): Promise<Shown[]> =>
    page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      return (await reg.getNotifications()).map((n: any) => ({ title: n.title, body: n.body, tag: n.tag, data: n.data }));
    });

  /**
   * Delivers `frame` to the worker and waits until the notifications match.
   * A CDP push delivered while a loaded machine is still starting the worker
   * can be dropped, so an unmatched delivery is repeated (every frame here is
   * idempotent: same tag, or a close of one).
   */
  async function deliverUntil(deliver: () => Promise<unknown>, pred: (n: Shown[]) => boolean): Promise<Shown[]> {
    let last: Shown[] = [];
    let deliveredAt = 0;
    return waitUntil(
      'the notifications to match',
      async () => {
        if (Date.now() - deliveredAt >= REDELIVER_MS) {
          deliveredAt = Date.now();
          await deliver();
        }
        last = await notifications();
        return pred(last) ? last : undefined;
      },
      () => `last seen: ${JSON.stringify(last)}`,
      2 * WAIT_MS,
    );
  }

  it('offers alerts with the tab closed, says plainly when the push service is out of reach, and its worker shows, replaces and closes notifications', async () => {
    const origin = svc.url;
    const root = await browser.newBrowserCDPSession();
    const { targetInfo } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } };
    await root.send('Browser.grantPermissions', { origin, permissions: ['notifications'], browserContextId: targetInfo.browserContextId });

    await page.goto(`${origin}/`);
    const offer = page.locator('#push-offer');
    await expect(offer.textContent()).resolves.toBe('Get alerts when this tab is closed');
    // Nothing was asked or registered before the click.
    expect(await page.evaluate(async () => (await navigator.serviceWorker.getRegistrations()).length)).toBe(0);

    const registrations: { registrationId: string; scopeURL: string; isDeleted: boolean }[] = [];
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e: { registrations: typeof registrations }) => registrations.push(...e.registrations));
    await cdp.send('ServiceWorker.enable');

    await offer.click();
    const status = page.locator('#push-status');
    await page.waitForSelector('#push-status[data-state="unreachable"], #push-status[data-state="on"], #push-status[data-state="error"]', { timeout: 30_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the page said: ${await status.getAttribute('data-state')}: ${await status.textContent()}`);
    });
    // This machine has no route to a browser push service: the page must say so, not fail silently.
    expect(await status.getAttribute('data-state')).toBe('unreachable');
    expect(await status.textContent()).toMatch(/could not reach its push service/);
    expect(await status.isVisible()).toBe(true);

    // The worker registered at /sw.js for the whole site.
    const scriptURL = await page.evaluate(async () => (await navigator.serviceWorker.ready).active.scriptURL);
    expect(scriptURL).toBe(`${origin}/sw.js`);
    const reg = await waitUntil(
      `the worker's registration for ${origin}/ over DevTools`,
      () => registrations.find((r) => r.scopeURL === `${origin}/` && !r.isDeleted),
      () => `registrations seen: ${JSON.stringify(registrations)}`,
    );
    const deliver = (frame: unknown) => cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg.registrationId, data: JSON.stringify(frame) });

    // An alert: a notification with its headline and summary, tagged with the alert id.
    const posted = await postAlert(svc.url, { headline: 'Flood barrier closes', summary: 'The Thames Barrier is closing for the evening tide.', url: 'https://news.example/barrier', topics: ['uk'], priority: 'flash' });
    const id = posted.body.id as string;
    const alertFrame = await frameOf(id, 'alert');
    let shown = await deliverUntil(() => deliver(alertFrame), (n) => n.some((x) => x.tag === id));
    expect(shown).toEqual([{ title: 'Flood barrier closes', body: 'The Thames Barrier is closing for the evening tide.', tag: id, data: expect.objectContaining({ url: 'https://news.example/barrier' }) }]);

    // Its correction replaces it (same tag), not a second notification.
    const patched = await fetch(`${svc.url}/v1/alerts/${id}`, { method: 'PATCH', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` }, body: JSON.stringify({ headline: 'Thames Barrier closes early' }) });
    expect(patched.status).toBe(200);
    const updateFrame = await frameOf(id, 'update');
    shown = await deliverUntil(() => deliver(updateFrame), (n) => n.some((x) => x.tag === id && x.title === 'Thames Barrier closes early'));
    expect(shown.filter((x) => x.tag === id)).toHaveLength(1);

    // A second alert has its own notification.
    const other = await postAlert(svc.url, { headline: 'Second story', topics: ['uk'] });
    const secondFrame = await frameOf(other.body.id, 'alert');
    await deliverUntil(() => deliver(secondFrame), (n) => n.length === 2);

    // Its retraction closes it; the other stays.
    const retracted = await fetch(`${svc.url}/v1/alerts/${id}/retract`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${PUBLISH_KEY}` }, body: JSON.stringify({ reason: 'Wrong barrier' }) });
    expect(retracted.status).toBe(200);
    const retractFrame = await frameOf(id, 'retract');
    shown = await deliverUntil(() => deliver(retractFrame), (n) => !n.some((x) => x.tag === id));
    expect(shown.map((x) => x.title)).toEqual(['Second story']);
    await root.detach();
  }, 120_000);

  /** The Web Push subscriptions the service would push an alert on `topic` to now. */
  async function pushAudience(topic: string): Promise<number> {
    const res = await getJson(`${svc.url}/v1/audience?topics=${encodeURIComponent(topic)}`, { Authorization: `Bearer ${PUBLISH_KEY}` });
    expect(res.status).toBe(200);
    return res.body.push as number;
  }

  /** The stand-in's record of what the page asked of the browser's push service. */
  interface StandInCalls {
    subscribe: number;
    getSubscription: number;
    unsubscribe: number;
    applicationServerKey: string | null;
  }

  it('turns alerts off: the browser subscription is dropped and Flashwire forgets it (push service replaced by a stand-in)', async () => {
    // The one test double: the browser's push service, which this machine cannot reach. Its
    // subscription points at a local server and carries a real P-256 key pair and auth secret,
    // so Flashwire validates and stores it as it would a real one.
    const pushService = http.createServer((req, res) => {
      req.resume();
      res.writeHead(201).end();
    });
    await new Promise<void>((resolve) => pushService.listen(0, '127.0.0.1', resolve));
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const standIn = {
      endpoint: `http://127.0.0.1:${(pushService.address() as AddressInfo).port}/push/${randomBytes(8).toString('hex')}`,
      p256dh: ecdh.getPublicKey().toString('base64url'),
      auth: randomBytes(16).toString('base64url'),
    };
    const ctx = await browser.newContext();
    try {
      await ctx.addInitScript((s: typeof standIn) => {
        const calls = { subscribe: 0, getSubscription: 0, unsubscribe: 0, applicationServerKey: null as string | null };
        window.__pushStandIn = calls;
        const b64url = (b: ArrayBuffer | Uint8Array) =>
          btoa(String.fromCharCode(...new Uint8Array(b instanceof Uint8Array ? b : new Uint8Array(b)))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const bytes = (t: string) => Uint8Array.from(atob(t.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0)).buffer;
        let current: any = null;
        PushManager.prototype.subscribe = async function (options: { userVisibleOnly?: boolean; applicationServerKey?: ArrayBuffer | Uint8Array }) {
          calls.subscribe++;
          calls.applicationServerKey = options?.applicationServerKey ? b64url(options.applicationServerKey) : null;
          if (current) return current;
          const sub: any = {
            endpoint: s.endpoint,
            expirationTime: null,
            options: { userVisibleOnly: !!options?.userVisibleOnly, applicationServerKey: options?.applicationServerKey ?? null },
            getKey: (name: string) => (name === 'p256dh' ? bytes(s.p256dh) : name === 'auth' ? bytes(s.auth) : null),
            toJSON: () => ({ endpoint: s.endpoint, expirationTime: null, keys: { p256dh: s.p256dh, auth: s.auth } }),
            unsubscribe: async () => {
              calls.unsubscribe++;
              const was = current === sub;
              if (was) current = null;
              return was;
            },
          };
          current = sub;
          return sub;
        };
        PushManager.prototype.getSubscription = async function () {
          calls.getSubscription++;
          return current;
        };
      }, standIn);
      const pg = await ctx.newPage();
      const pageCdp = await ctx.newCDPSession(pg);
      const root = await browser.newBrowserCDPSession();
      const { targetInfo } = (await pageCdp.send('Target.getTargetInfo')) as { targetInfo: { browserContextId: string } };
      await root.send('Browser.grantPermissions', { origin: svc.url, permissions: ['notifications'], browserContextId: targetInfo.browserContextId });

      const topic = `e2e/unsub${randomBytes(3).toString('hex')}`;
      expect(await pushAudience(topic)).toBe(0);
      await pg.goto(`${svc.url}/?topics=${encodeURIComponent(topic)}`);
      const offer = pg.locator('#push-offer');
      const status = pg.locator('#push-status');
      const calls = () => pg.evaluate(() => window.__pushStandIn as StandInCalls);
      const settled = (states: string) =>
        pg.waitForSelector(states.split(',').map((s) => `#push-status[data-state="${s}"]`).join(', '), { timeout: 30_000 }).catch(async (err: Error) => {
          throw new Error(`${err.message}; the page said: ${await status.getAttribute('data-state')}: ${await status.textContent()}`);
        });
      await expect(offer.textContent()).resolves.toBe('Get alerts when this tab is closed');

      // On: the page subscribes with Flashwire's VAPID key and Flashwire stores the subscription.
      await offer.click();
      await settled('on,unreachable,error,denied');
      expect(await status.getAttribute('data-state')).toBe('on');
      expect(await status.textContent()).toBe(`On: alerts for ${topic} reach this device even with the tab closed.`);
      expect(await offer.getAttribute('data-on')).toBe('true');
      await expect(offer.textContent()).resolves.toBe('Stop alerts when this tab is closed');
      const { publicKey } = (await getJson(`${svc.url}/v1/push/key`)).body as { publicKey: string };
      expect(await calls()).toMatchObject({ subscribe: 1, unsubscribe: 0, applicationServerKey: publicKey });
      expect(await pushAudience(topic)).toBe(1);

      // Flashwire refuses the DELETE: the page says so, keeps the subscription and stays on.
      await pg.route('**/v1/push/subscriptions', (route) =>
        route.request().method() === 'DELETE'
          ? route.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({ title: 'Service Unavailable', status: 503, detail: 'try again later' }) })
          : route.fallback(),
      );
      await offer.click();
      await settled('error,off');
      expect(await status.getAttribute('data-state')).toBe('error');
      expect(await status.textContent()).toMatch(/try again later/);
      expect(await offer.getAttribute('data-on')).toBe('true');
      expect((await calls()).unsubscribe).toBe(0);
      expect(await pushAudience(topic)).toBe(1);
      await pg.unroute('**/v1/push/subscriptions');

      // Off: the browser's subscription is dropped and Flashwire no longer holds it.
      // The page still shows the refusal's "error", so only "off" can say this click is done.
      await offer.click();
      await settled('off');
      expect(await status.textContent()).toBe('Off: this device no longer gets alerts with the tab closed.');
      expect(await offer.getAttribute('data-on')).toBe('false');
      await expect(offer.textContent()).resolves.toBe('Get alerts when this tab is closed');
      expect((await calls()).unsubscribe).toBe(1);
      expect(await pg.evaluate(async () => (await (await navigator.serviceWorker.ready).pushManager.getSubscription()) === null)).toBe(true);
      expect(await pushAudience(topic)).toBe(0);
      await root.detach();
    } finally {
      await ctx.close();
      await new Promise<void>((resolve) => pushService.close(() => resolve()));
    }
  }, 120_000);
});
