/**
 * The console's webhooks section in a real headless Chromium against a
 * real service: add an endpoint (its secret shown once), see it listed
 * with status and lag, send a test alert and see the attempt, remove it.
 * The receiver is a real HTTP server checking each call with the official
 * standardwebhooks package.
 */
import type { Browser } from 'playwright-core';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY } from '../helpers/settings';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver';
import { createAdminKey } from '../helpers/webhooks';
import { launchChromium } from './chromium';

jest.setTimeout(90_000);

describe('the console webhooks section in Chromium', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let svc: Awaited<ReturnType<typeof startService>>;
  let rcv: Receiver;
  let admin: string;
  let browser: Browser;

  beforeAll(async () => {
    redis = await startRedis();
    svc = await startService(redis.url, { FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'true', FLASHWIRE_WEBHOOK_RETRY_SCHEDULE_MS: '200' });
    admin = await createAdminKey(redis.url, svc.prefix);
    rcv = await startReceiver();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await svc?.stop();
    await rcv?.close();
    await redis?.cleanup();
  });

  it('adds, lists with status and lag, sends a test alert, shows the attempt, and removes', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
    await page.goto(`${svc.url}/console`);
    await page.fill('#key', PUBLISH_KEY);
    await page.dispatchEvent('#key', 'change');

    // A non-admin key is refused, and said so.
    await page.fill('#admin-key', PUBLISH_KEY);
    await page.click('#wh-auth button[type="submit"]');
    await page.waitForSelector('#wh-auth .form-message[data-kind="error"]');
    await expect(page.textContent('#wh-auth .form-message')).resolves.toMatch(/lacks/);

    await page.fill('#admin-key', admin);
    await page.click('#wh-auth button[type="submit"]');
    await page.waitForSelector('#wh-empty:not([hidden])');

    // A bad URL is shown beside its field.
    await page.fill('#wh-url', 'ftp://nope');
    await page.fill('#wh-topics', 'console-hooks');
    await page.click('#wh-add button[type="submit"]');
    await page.waitForSelector('#wh-add .field-error[data-for="url"]:not([hidden])');

    await page.fill('#wh-url', rcv.url);
    await page.fill('#wh-topics', 'console-hooks');
    await page.click('#wh-add button[type="submit"]');
    await page.waitForSelector('#wh-secret:not([hidden])');
    const secret = (await page.textContent('#wh-secret'))!.trim();
    expect(secret).toMatch(/^whsec_/);
    const row = page.locator('#wh-list tr', { hasText: rcv.url });
    await row.waitFor();
    await expect(row.locator('.wh-status').textContent()).resolves.toBe('active');
    await expect(row.locator('.wh-lag').textContent()).resolves.toBe('caught up');
    await page.waitForSelector('#wh-detail:not([hidden])');
    await page.waitForSelector('#wh-attempts-empty:not([hidden])');

    await page.click('#wh-test');
    await rcv.waitFor((c) => c.length >= 1, 30_000);
    expect(rcv.verify(rcv.calls[0]!, secret)).toEqual(rcv.calls[0]!.frame);
    expect(rcv.calls[0]!.frame.alert.topics).toEqual(['console-hooks']);
    // The attempt appears in the detail: the event id and the receiver's 204.
    await page.locator('#wh-attempts tr', { hasText: rcv.calls[0]!.id }).waitFor();
    await expect(page.locator('#wh-attempts .wh-result').first().textContent()).resolves.toBe('204');

    await page.click('#wh-remove');
    await page.waitForSelector('#wh-detail[hidden]', { state: 'attached' });
    await page.waitForSelector('#wh-empty:not([hidden])');
    const list = await (await fetch(`${svc.url}/v1/webhooks`, { headers: { Authorization: `Bearer ${admin}` } })).json();
    expect(list).toEqual({ webhooks: [] });
    await page.close();
  });
});
