/**
 * The webhook parts that need no network: which addresses the SSRF guard
 * lets through, the retry delays, Retry-After, the sealed secrets, and the
 * signer checked against the official standardwebhooks package.
 */
import { Webhook } from 'standardwebhooks';
import { failureReason, retryDelay } from '../../src/webhooks/engine';
import { SecretBox } from '../../src/webhooks/secret-box';
import { parseRetryAfter } from '../../src/webhooks/sender';
import { newWebhookSecret, signatureHeader } from '../../src/webhooks/signer';
import { checkUrlTarget, isPublicAddress, UnsafeAddressError } from '../../src/webhooks/ssrf';

describe('the SSRF guard', () => {
  it.each([
    '127.0.0.1', '127.1.2.3', '10.0.0.1', '172.16.5.4', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0',
    '224.0.0.1', '255.255.255.255', '198.18.0.1', '192.0.2.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '2001:db8::1', 'not-an-ip',
  ])('refuses %s', (a) => expect(isPublicAddress(a)).toBe(false));

  it.each(['93.184.216.34', '8.8.8.8', '1.1.1.1', '172.32.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows %s', (a) => expect(isPublicAddress(a)).toBe(true));

  it('refuses a name when any of its addresses is not public', async () => {
    const lookup = async () => [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }];
    await expect(checkUrlTarget(new URL('https://mixed.example/x'), lookup)).rejects.toBeInstanceOf(UnsafeAddressError);
    await expect(checkUrlTarget(new URL('https://ok.example/x'), async () => [{ address: '93.184.216.34', family: 4 }])).resolves.toBeUndefined();
    await expect(checkUrlTarget(new URL('http://[::1]:8080/'))).rejects.toBeInstanceOf(UnsafeAddressError);
  });
});

describe('retry delays', () => {
  const schedule = [1000, 5000, 30_000, 120_000, 600_000, 1_800_000];
  it('grow along the schedule, then repeat its last step, jittered by ±20 %', () => {
    const mid = () => 0.5;
    expect([1, 2, 3, 4, 5, 6, 7, 50].map((n) => retryDelay(schedule, n, mid))).toEqual([1000, 5000, 30_000, 120_000, 600_000, 1_800_000, 1_800_000, 1_800_000]);
    expect(retryDelay(schedule, 1, () => 0)).toBe(800);
    expect(retryDelay(schedule, 1, () => 0.999999)).toBe(1200);
  });
  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
  it('labels failures with a bounded set of reasons', () => {
    expect([{ error: 'timeout' }, { error: 'econnrefused' }, { status: 302 }, { status: 410 }, { status: 404 }, { status: 503 }, { error: 'blocked' }].map((r) => failureReason({ ...r, ms: 1 }))).toEqual([
      'timeout', 'network', 'redirect', 'gone', 'http_4xx', 'http_5xx', 'blocked',
    ]);
  });
});

describe('secrets and signatures', () => {
  it('seals with AES-GCM (a fresh nonce each time) and refuses a tampered or unkeyed secret', () => {
    const box = new SecretBox('k'.repeat(40));
    const secret = newWebhookSecret();
    const a = box.seal(secret);
    const b = box.seal(secret);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret.slice(6, 20));
    expect(box.open(a)).toBe(secret);
    const raw = Buffer.from(a.slice(5), 'base64');
    raw[raw.length - 1] = (raw[raw.length - 1] as number) ^ 1;
    expect(() => box.open('gcm1:' + raw.toString('base64'))).toThrow();
    expect(() => new SecretBox('x'.repeat(40)).open(a)).toThrow();
    expect(() => new SecretBox(undefined).open(a)).toThrow(/FLASHWIRE_SECRET_KEY/);
    expect(new SecretBox(undefined).seal(secret)).toBe(secret);
  });

  it('signs as standardwebhooks verifies, one signature per secret', () => {
    const s1 = newWebhookSecret();
    const s2 = newWebhookSecret();
    expect(Buffer.from(s1.slice(6), 'base64')).toHaveLength(32);
    const body = '{"type":"alert","eventId":"1-0","alert":{"headline":"é ✓"}}';
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([s1, s2], '1-0', ts, body);
    const headers = { 'webhook-id': '1-0', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    expect(new Webhook(s1).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(s2).verify(body, headers)).toEqual(JSON.parse(body));
    // The official signer produces the same signature as ours.
    expect(header.split(' ')[0]).toBe(new Webhook(s1).sign('1-0', new Date(ts * 1000), body));
    expect(() => new Webhook(newWebhookSecret()).verify(body, headers)).toThrow();
  });
});
