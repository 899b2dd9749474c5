/**
 * The reader page, the newsroom console and the browser client in a real
 * headless Chromium against a real service: the api+worker and the gateway
 * (which also answers the HTTP read paths) run as two services so the
 * gateway can be cut and restarted on its port while alerts keep being
 * accepted.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import os from 'node:os';
import path from 'node:path';
import IORedis from 'ioredis';
import type { Browser, Page } from 'playwright-core';
import { FIXTURE, eventually, postAlert } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';
import { launchChromium } from './chromium';

// Callbacks passed to page.evaluate run in the page; these names are theirs.
// Declared here (module scope) so the Node test program needs no DOM lib.
declare const window: any;
declare const document: any;
declare function getComputedStyle(el: unknown): any;
type HTMLElement = any;
type NotificationOptions = any;
class EventTarget {}

// docs/screenshots is refreshed on request only, so `npm test` leaves the tree clean.
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS ? path.resolve(__dirname, '../../docs/screenshots') : fs.mkdtempSync(path.join(os.tmpdir(), 'fw-shots-'));

/** Long enough for a worker or a browser on a loaded two-core machine. */
const WAIT_MS = 30_000;

describe('the pages in Chromium', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  let gateway: Awaited<ReturnType<typeof startService>>;
  let gatewayPort: number;
  const prefix = uniquePrefix();
  let browser: Browser;

  // The reader page's process also answers GET /v1/feed (as one address in
  // front of both roles would), so the page can catch up over HTTP.
  const startGateway = (port = 0) => startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,gateway', PORT: String(port) });

  beforeAll(async () => {
    redis = await startRedis();
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api,worker', FLASHWIRE_PUBLISH_RATE_PER_MINUTE: '100000' });
    gateway = await startGateway();
    gatewayPort = gateway.port;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await api?.stop();
    await redis?.cleanup();
    if (!process.env.UPDATE_SCREENSHOTS) fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  });

  async function readerPage(query = '', init?: () => void): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    if (init) await page.addInitScript(init);
    await page.goto(`http://127.0.0.1:${gatewayPort}/${query}`);
    await page.waitForSelector('#state[data-state="open"]');
    return page;
  }

  const isSent = async (id: string) => ((await (await fetch(`${api.url}/v1/alerts/${id}`)).json()) as { status: string }).status === 'sent';

  /**
   * Posts one after another, each sent before the next is posted: the worker
   * appends several alerts at once, so only this pins their order in the feed
   * (and so on the page) to the order posted.
   */
  async function postInOrder(...bodies: Record<string, unknown>[]): Promise<string[]> {
    const ids: string[] = [];
    for (const body of bodies) {
      const posted = await postAlert(api.url, body);
      expect(posted.status).toBe(202);
      const id = posted.body.id as string;
      await eventually(() => isSent(id), WAIT_MS);
      ids.push(id);
    }
    return ids;
  }

  const card = (page: Page, id: string) => page.locator(`#ticker > li[data-alert-id="${id}"]`);

  /** Every alert id on the page, in page order (newest first). */
  const shownIds = (page: Page) => page.$$eval('#ticker > li', (lis) => lis.map((li) => (li as HTMLElement).dataset.alertId!));

  it('posts the fixture through the console and the reader shows it, then the correction and the retraction', async () => {
    const reader = await readerPage();
    const shownBefore = await shownIds(reader);
    const consolePage = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await consolePage.goto(`${api.url}/console`);

    // A 422 is shown beside each field it names.
    await consolePage.fill('#key', PUBLISH_KEY);
    await consolePage.dispatchEvent('#key', 'change');
    await consolePage.fill('#headline', '   ');
    await consolePage.fill('#topics', 'World News, europe');
    await consolePage.fill('#url', 'ftp://example.org/x');
    await consolePage.click('#compose button[type="submit"]');
    await consolePage.waitForSelector('#compose .form-message[data-kind="error"]');
    await expect(consolePage.textContent('#compose .field-error[data-for="headline"]')).resolves.toMatch(/empty/);
    await expect(consolePage.textContent('#compose .field-error[data-for="topics"]')).resolves.toMatch(/lowercase/);
    await expect(consolePage.textContent('#compose .field-error[data-for="url"]')).resolves.toMatch(/http/);
    expect(await consolePage.getAttribute('#headline', 'aria-invalid')).toBe('true');
    expect(await consolePage.isVisible('#compose .field-error[data-for="summary"]')).toBe(false);

    // The fixture, field by field.
    await consolePage.fill('#headline', String(FIXTURE.headline));
    await consolePage.fill('#summary', String(FIXTURE.summary));
    await consolePage.fill('#url', String(FIXTURE.url));
    await consolePage.fill('#topics', (FIXTURE.topics as string[]).join(', '));
    await consolePage.selectOption('#priority', String(FIXTURE.priority));
    await consolePage.click('#compose button[type="submit"]');
    const accepted = await consolePage.waitForSelector('#compose .form-message[data-kind="ok"]');
    const id = /Accepted: (\S+)/.exec((await accepted.textContent()) ?? '')![1]!;
    expect(await consolePage.isVisible('#compose .field-error[data-for="headline"]')).toBe(false);

    // It arrives on the reader page, as text, with its priority.
    await card(reader, id).waitFor();
    expect(await card(reader, id).locator('.headline').textContent()).toBe(FIXTURE.headline);
    expect(await card(reader, id).locator('.summary').textContent()).toBe(FIXTURE.summary);
    expect(await card(reader, id).locator('.badge').textContent()).toBe('bulletin');
    expect(await card(reader, id).getAttribute('class')).toContain('p-bulletin');
    expect(await card(reader, id).locator('.headline a').getAttribute('href')).toBe(FIXTURE.url);

    // The console's delivery report fills in.
    await consolePage.waitForSelector('#report dd[data-field="status"]:text-is("sent")');
    expect(await consolePage.textContent('#report dd[data-field="eventId"]')).toBe(await card(reader, id).getAttribute('data-event-id'));
    await consolePage.waitForFunction(() => Number(document.querySelector('#report dd[data-field="deliveries"]')?.textContent) >= 1, undefined, { timeout: WAIT_MS });

    // A correction is applied in place: same card, new headline.
    const corrected = 'Stoltenberg: Ukraine’s rightful place is in NATO';
    await consolePage.fill('#c-headline', corrected);
    await consolePage.click('#correct button[type="submit"]');
    await consolePage.waitForSelector('#correct .form-message[data-kind="ok"]');
    await reader.waitForSelector(`#ticker > li[data-alert-id="${id}"].is-corrected`);
    expect(await card(reader, id).locator('.headline').textContent()).toBe(corrected);
    expect(await card(reader, id).locator('.corrected').isVisible()).toBe(true);

    // A retraction is struck through with its reason.
    await consolePage.fill('#r-reason', 'Quote was misattributed');
    await consolePage.click('#retract button[type="submit"]');
    await consolePage.waitForSelector('#report dd[data-field="status"]:text-is("retracted")');
    await reader.waitForSelector(`#ticker > li[data-alert-id="${id}"].is-retracted`);
    expect(await card(reader, id).locator('.retraction').textContent()).toBe('Retracted: Quote was misattributed');
    expect(await card(reader, id).locator('.headline').evaluate((h) => getComputedStyle(h).textDecorationLine)).toContain('line-through');
    expect(await shownIds(reader)).toEqual([id, ...shownBefore]);
    await reader.close();
    await consolePage.close();
  });

  it('schedules an alert for a time from the console, and retracts it before it is sent', async () => {
    const consolePage = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await consolePage.goto(`${api.url}/console`);
    await consolePage.fill('#key', PUBLISH_KEY);
    await consolePage.fill('#headline', 'Embargoed: budget published at noon');
    await consolePage.fill('#topics', 'business');
    await consolePage.check('input[name="when"][value="at"]');
    // datetime-local takes the newsroom's local time, without a zone.
    const local = await consolePage.evaluate(() => {
      const d = new Date(Date.now() + 3600_000);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    });
    await consolePage.fill('#sendAt', local);
    await consolePage.click('#compose button[type="submit"]');
    const accepted = await consolePage.waitForSelector('#compose .form-message[data-kind="ok"]');
    const id = /Accepted: (\S+) \(scheduled\)/.exec((await accepted.textContent()) ?? '')![1]!;
    const resource = (await (await fetch(`${api.url}/v1/alerts/${id}`)).json()) as { status: string; sendAt: string };
    expect(resource.status).toBe('scheduled');
    // The time typed, read in the page's own zone, as the console sends it.
    expect(Date.parse(resource.sendAt)).toBe(await consolePage.evaluate((v) => new Date(v).getTime(), local));
    await consolePage.waitForSelector('#report dd[data-field="status"]:text-is("scheduled")');
    await consolePage.fill('#r-reason', 'Budget delayed');
    await consolePage.click('#retract button[type="submit"]');
    await consolePage.waitForSelector('#report dd[data-field="status"]:text-is("retracted")');
    await consolePage.close();
  });

  it('renders headlines as text, never as HTML', async () => {
    const reader = await readerPage();
    const headline = '<img src=x onerror="window.__owned=1"><b>Bold</b> & <script>window.__owned=2</script>';
    const posted = await postAlert(api.url, { headline, summary: '<i>also text</i>', topics: ['world'], priority: 'flash' });
    expect(posted.status).toBe(202);
    await card(reader, posted.body.id).waitFor();
    expect(await card(reader, posted.body.id).locator('.headline').textContent()).toBe(headline);
    expect(await card(reader, posted.body.id).locator('.summary').textContent()).toBe('<i>also text</i>');
    expect(await card(reader, posted.body.id).locator('img, b, script, i').count()).toBe(0);
    expect(await reader.evaluate(() => (window as unknown as { __owned?: number }).__owned)).toBeUndefined();
    // Flash stands out.
    expect(await card(reader, posted.body.id).getAttribute('class')).toContain('p-flash');
    await reader.close();
  });

  it('filters the ticker by topic and follows only the topics asked for', async () => {
    const reader = await readerPage('?topics=sports');
    expect(await reader.textContent('#subscribed')).toBe('sports');
    const [world, sports] = await postInOrder({ headline: 'Not for sports readers', topics: ['world'] }, { headline: 'Final score', topics: ['sports/football'] });
    await card(reader, sports!).waitFor();
    // Subscribing on the open connection (a subscribe frame) brings world in.
    await reader.fill('#topics', 'sports, world');
    await reader.evaluate(() => {
      (window as any).__subscribed = new Promise((r) => (window as any).flashwire.on('subscribed', r));
    });
    await reader.click('#subscribe button');
    // The server has answered the subscribe frame: world alerts now reach this connection.
    expect(await reader.evaluate(() => (window as any).__subscribed)).toEqual({ type: 'subscribed', topics: ['world'] });
    const world2 = await postAlert(api.url, { headline: 'World news after subscribing', topics: ['world'] });
    await card(reader, world2.body.id).waitFor();
    expect(await shownIds(reader)).toEqual([world2.body.id, sports]);
    expect(await shownIds(reader)).not.toContain(world);
    await reader.click('#tabs button[data-topic="sports"]');
    expect(await card(reader, world2.body.id).isHidden()).toBe(true);
    expect(await card(reader, sports!).isVisible()).toBe(true);
    await reader.click('#tabs button[data-topic=""]');
    // Unfollowing sports (an unsubscribe frame) stops sports alerts.
    await reader.evaluate(() => {
      (window as any).__unsubscribed = new Promise((r) => (window as any).flashwire.on('unsubscribed', r));
    });
    await reader.fill('#topics', 'world');
    await reader.click('#subscribe button');
    expect(await reader.evaluate(() => (window as any).__unsubscribed)).toEqual({ type: 'unsubscribed', topics: ['sports'] });
    // The feed is ordered: once the later world alert is shown, the sports one before it cannot still come.
    const [sportsLater, world3] = await postInOrder({ headline: 'Not followed any more', topics: ['sports'] }, { headline: 'Still followed', topics: ['world'] });
    await card(reader, world3!).waitFor({ state: 'attached' });
    expect(await shownIds(reader)).not.toContain(sportsLater);
    expect(await card(reader, world3!).isVisible()).toBe(true);
    await reader.close();
  });

  async function cutAndResume(reader: Page, topic: string): Promise<void> {
    const before = await postAlert(api.url, { headline: `${topic}: before the cut`, topics: [topic] });
    await card(reader, before.body.id).waitFor();

    await gateway.stop();
    await reader.waitForSelector('#state[data-state="reconnecting"]');
    // Accepted while the reader's gateway is down: it must get them on resume.
    const missed = await postInOrder(...[0, 1, 2].map((i) => ({ headline: `${topic}: missed ${i}`, topics: [topic] })));
    gateway = await startGateway(gatewayPort);
    await reader.waitForSelector('#state[data-state="open"]', { timeout: WAIT_MS });
    const after = await postAlert(api.url, { headline: `${topic}: after the cut`, topics: [topic] });
    await card(reader, after.body.id).waitFor();

    const ids = await shownIds(reader);
    expect(ids).toEqual([after.body.id, ...[...missed].reverse(), before.body.id]);
    // The page's event ids only grow, top to bottom read backwards.
    const eventIds = await reader.$$eval('#ticker > li', (lis) => lis.map((li) => (li as HTMLElement).dataset.eventId!));
    const sorted = [...eventIds].sort((a, b) => (BigInt(a.split('-')[0]!) === BigInt(b.split('-')[0]!) ? Number(a.split('-')[1]) - Number(b.split('-')[1]) : BigInt(a.split('-')[0]!) < BigInt(b.split('-')[0]!) ? -1 : 1));
    expect(eventIds).toEqual(sorted.reverse());
  }

  it('resumes over WebSocket after the gateway is cut, with no alert lost or shown twice', async () => {
    const reader = await readerPage('?topics=resume-ws');
    expect(await reader.getAttribute('#state', 'data-transport')).toBe('websocket');
    await cutAndResume(reader, 'resume-ws');
    await reader.close();
  });

  it('falls back to Server-Sent Events where WebSocket cannot open, and resumes there too', async () => {
    // A network that refuses WebSocket upgrades: every socket fails before opening.
    const reader = await readerPage('?topics=resume-sse', () => {
      class Refused extends EventTarget {
        static readonly OPEN = 1;
        readyState = 3;
        onopen = null;
        onmessage = null;
        onclose: ((e: unknown) => void) | null = null;
        constructor() {
          super();
          setTimeout(() => this.onclose?.({ code: 1006, reason: '' }), 10);
        }
        send() {}
        close() {}
      }
      (window as any).WebSocket = Refused;
    });
    expect(await reader.getAttribute('#state', 'data-transport')).toBe('sse');
    expect(await reader.textContent('#state .label')).toContain('Server-Sent Events');
    await cutAndResume(reader, 'resume-sse');
    await reader.close();
  });

  it('shows the newest 20 alerts of its topics on load, then live ones above them', async () => {
    const posted = await postInOrder(...Array.from({ length: 25 }, (_, i) => ({ headline: `backlog ${i}`, topics: [i % 2 ? 'backlog/odd' : 'backlog'] })));
    await postInOrder({ headline: 'another topic', topics: ['not-backlog'] });
    const reader = await readerPage('?topics=backlog');
    expect(await shownIds(reader)).toEqual(posted.slice(-20).reverse());
    const live = await postAlert(api.url, { headline: 'backlog live', topics: ['backlog'] });
    await card(reader, live.body.id).waitFor();
    expect(await shownIds(reader)).toEqual([live.body.id, ...posted.slice(-20).reverse()]);
    await reader.close();
  });

  it('after a resync, catches up from GET /v1/feed by itself and carries on live', async () => {
    const topic = 'resync-page';
    const reader = await readerPage(`?topics=${topic}`);
    const first = await postAlert(api.url, { headline: 'seen live', topics: [topic] });
    await card(reader, first.body.id).waitFor();
    await reader.evaluate(() => {
      (window as any).__resyncs = [];
      (window as any).flashwire.on('resync', (f: unknown) => (window as any).__resyncs.push(f));
    });

    // While the reader is away the feed moves on and is trimmed past its
    // cursor: resuming from it is impossible, a resync is due.
    await gateway.stop();
    await reader.waitForSelector('#state[data-state="reconnecting"]');
    // All three sent, in order, before the trim: it keeps the last two.
    const missed = await postInOrder(...[0, 1, 2].map((i) => ({ headline: `missed ${i}`, topics: [topic] })));
    const admin = new IORedis(redis.url);
    await admin.xtrim(`${prefix}:feed`, 'MAXLEN', 2);
    admin.disconnect();
    gateway = await startGateway(gatewayPort);
    await reader.waitForFunction(() => (window as any).__resyncs.length === 1, undefined, { timeout: WAIT_MS });
    expect(await reader.evaluate(() => (window as any).__resyncs)).toEqual([{ type: 'resync', reason: 'trimmed' }]);

    // What the feed still holds appears, in order, below nothing newer.
    await card(reader, missed[2]!).waitFor();
    expect(await shownIds(reader)).toEqual([missed[2], missed[1], first.body.id]);
    expect(await reader.locator('.banner:visible').count()).toBe(0);
    // And it is live: later alerts arrive on top, nothing is dropped.
    const later = await postInOrder(...[0, 1].map((i) => ({ headline: `after the resync ${i}`, topics: [topic] })));
    await card(reader, later[1]!).waitFor();
    expect(await shownIds(reader)).toEqual([later[1], later[0], missed[2], missed[1], first.body.id]);
    await reader.close();
  });

  it.each([['websocket'], ['sse']])('the browser client forgets a cursor the server cannot honour and delivers what follows (%s)', async (transport) => {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${gatewayPort}/?topics=client-resync-${transport}`);
    await page.waitForSelector('#state[data-state="open"]');
    // A cursor from the future (a restored client, a skewed relay).
    const since = `${Date.now() + 86_400_000}-0`;
    await page.evaluate(
      async ({ since, transport }) => {
        // The module as the service serves it (a plain import(), which the test's compiler would rewrite).
        const { FlashwireClient } = await new Function('u', 'return import(u)')('/client/flashwire.js');
        const got: unknown[] = [];
        const fw = new FlashwireClient({ topics: [`client-resync-${transport}`], since, transport });
        fw.on('resync', (f: unknown) => got.push(f));
        fw.on('alert', (f: any) => got.push(f.alert.id));
        (window as any).__probe = { fw, got };
        fw.connect();
      },
      { since, transport },
    );
    await page.waitForFunction(() => (window as any).__probe.got.length === 1, undefined, { timeout: WAIT_MS });
    expect(await page.evaluate(() => (window as any).__probe.got)).toEqual([{ type: 'resync', reason: 'unknown_since' }]);
    expect(await page.evaluate(() => (window as any).__probe.fw.lastEventId)).toBeUndefined();
    const live = await postAlert(api.url, { headline: 'after a future cursor', topics: [`client-resync-${transport}`] });
    await page.waitForFunction(() => (window as any).__probe.got.length === 2, undefined, { timeout: WAIT_MS });
    expect(await page.evaluate(() => (window as any).__probe.got[1])).toBe(live.body.id);
    await page.evaluate(() => (window as any).__probe.fw.close());
    await page.close();
  });

  it.each([['websocket'], ['sse']])('the browser client drops a connection the server never serves and tries again (%s)', async (transport) => {
    // A server that serves a page and the client module, takes the stream's connections and never
    // answers them: as a gateway killed between the cluster primary's handoff and its answer.
    const held: Duplex[] = [];
    const clientJs = fs.readFileSync(path.resolve(__dirname, '../../dist/web/client/flashwire.js'));
    const silent = http.createServer((req, res) => {
      if (req.url?.startsWith('/v1/')) return void held.push(req.socket);
      if (req.url === '/client/flashwire.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(clientJs);
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>silent</title>');
    });
    silent.on('upgrade', (_req, socket) => held.push(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`);
      await page.evaluate(async (transport) => {
        const { FlashwireClient } = await new Function('u', 'return import(u)')('/client/flashwire.js');
        const reasons: string[] = [];
        const fw = new FlashwireClient({ topics: ['world'], transport, handshakeTimeoutMs: 300, initialDelayMs: 10, maxDelayMs: 20 });
        fw.on('state', (s: any) => s.state === 'reconnecting' && s.reason && reasons.push(s.reason));
        (window as any).__probe = { fw, reasons };
        fw.connect();
      }, transport);
      await page.waitForFunction(() => (window as any).__probe.reasons.length >= 2, undefined, { timeout: WAIT_MS });
      expect(await page.evaluate(() => (window as any).__probe.reasons.slice(0, 2))).toEqual(['not served within 300 ms', 'not served within 300 ms']);
      expect(held.length).toBeGreaterThanOrEqual(2);
      await page.evaluate(() => (window as any).__probe.fw.close());
    } finally {
      await page.close();
      for (const s of held) s.destroy();
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('shows desktop notifications only after the reader allows them', async () => {
    const context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin: `http://127.0.0.1:${gatewayPort}` });
    const page = await context.newPage();
    await page.addInitScript(() => {
      const shown: string[] = [];
      (window as any).__shown = shown;
      const Real = window.Notification;
      class Spy extends Real {
        constructor(title: string, opts?: NotificationOptions) {
          super(title, opts);
          shown.push(title);
        }
      }
      (window as any).Notification = Spy;
    });
    await page.goto(`http://127.0.0.1:${gatewayPort}/?topics=notify`);
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.textContent('#notify')).toBe('Notifications on');
    const flash = await postAlert(api.url, { headline: 'Flash for the desktop', topics: ['notify'], priority: 'flash' });
    await card(page, flash.body.id).waitFor();
    await page.waitForFunction(() => (window as any).__shown.length === 1);
    expect(await page.evaluate(() => (window as any).__shown)).toEqual(['FLASH: Flash for the desktop']);
    await context.close();
  });

  it('saves screenshots of both pages (UPDATE_SCREENSHOTS=1 writes them to docs/screenshots)', async () => {
    const reader = await readerPage();
    const topics = ['world', 'europe/ukraine', 'nato'];
    // Each sent before the next: the correction and the retraction below need theirs sent, not pending.
    const post = async (body: Record<string, unknown>) => (await postInOrder(body))[0]!;
    await post({ headline: 'Central bank holds rates steady, signals cut next quarter', summary: 'Policymakers voted 7-2 to keep the benchmark rate unchanged.', topics: ['business/markets'], priority: 'routine' });
    const misattributed = await post({ headline: 'Minister resigns over procurement scandal', topics: ['europe'], priority: 'urgent' });
    await post({ headline: 'Storm warning extended to the whole northern coast', summary: 'Gusts of up to 140 km/h expected overnight; ferries suspended.', topics: ['weather', 'europe'], priority: 'urgent' });
    const fixture = await post(FIXTURE);
    const flash = await post({ headline: 'Earthquake of magnitude 7.1 strikes off the coast of Japan', summary: 'Tsunami warning issued for Pacific coastline; residents urged to move to higher ground.', url: 'https://example.org/news/quake', topics: ['world', 'asia/japan'], priority: 'flash' });
    await card(reader, flash).waitFor();
    const key = { Authorization: `Bearer ${PUBLISH_KEY}`, 'Content-Type': 'application/json' };
    await fetch(`${api.url}/v1/alerts/${fixture}`, { method: 'PATCH', headers: key, body: JSON.stringify({ headline: 'Stoltenberg: Ukraine’s rightful place is in NATO' }) });
    await fetch(`${api.url}/v1/alerts/${misattributed}/retract`, { method: 'POST', headers: key, body: JSON.stringify({ reason: 'The minister has not resigned; the report was wrong.' }) });
    await reader.waitForSelector(`#ticker > li[data-alert-id="${misattributed}"].is-retracted`);
    await reader.waitForSelector(`#ticker > li[data-alert-id="${fixture}"].is-corrected`);
    await reader.evaluate(() => document.querySelectorAll('.arrived').forEach((e: any) => e.classList.remove('arrived')));
    await reader.screenshot({ path: path.join(SCREENSHOTS, 'reader.png'), fullPage: true });

    const consolePage = await browser.newPage({ viewport: { width: 1280, height: 980 } });
    await consolePage.goto(`${api.url}/console`);
    await consolePage.fill('#key', PUBLISH_KEY);
    await consolePage.fill('#headline', String(FIXTURE.headline));
    await consolePage.fill('#summary', String(FIXTURE.summary));
    await consolePage.fill('#url', String(FIXTURE.url));
    await consolePage.fill('#topics', topics.join(', '));
    await consolePage.selectOption('#priority', 'bulletin');
    await consolePage.click('#compose button[type="submit"]');
    await consolePage.waitForSelector('#report dd[data-field="status"]:text-is("sent")');
    await consolePage.waitForFunction(() => Number(document.querySelector('#report dd[data-field="deliveries"]')?.textContent) >= 1, undefined, { timeout: WAIT_MS });
    await consolePage.fill('#headline', '');
    await consolePage.fill('#topics', 'Europe');
    await consolePage.click('#compose button[type="submit"]');
    await consolePage.waitForSelector('#compose .field-error[data-for="topics"]:visible');
    await consolePage.screenshot({ path: path.join(SCREENSHOTS, 'console.png'), fullPage: true });
    for (const f of ['reader.png', 'console.png']) expect(fs.statSync(path.join(SCREENSHOTS, f)).size).toBeGreaterThan(10_000);
    await consolePage.close();
    await reader.close();
  });
});
