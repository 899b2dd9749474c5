/** What an event becomes as a push, VAPID tokens, and which addresses a push may reach. */
import { parseEntry } from '../../src/feed/feed-event';
import { isPublicAddress } from '../../src/push/endpoint';
import { MAX_PAYLOAD_BYTES, preparePush, pushPayload, pushTopic, ttlSeconds, urgencyOf } from '../../src/push/message';
import { parseRetryAfter } from '../../src/push/push-client';
import { checkVapidKeys, generateVapidKeys, TOKEN_LIFETIME_S, VapidSigner, verifyVapidJwt } from '../../src/push/vapid';

describe('push message', () => {
  it('maps priorities to RFC 8030 urgencies', () => {
    expect(['flash', 'bulletin', 'urgent', 'routine'].map(urgencyOf)).toEqual(['high', 'high', 'normal', 'low']);
  });

  it('lasts until expiresAt, else a day', () => {
    expect(ttlSeconds(0, 1_000)).toBe(86_400);
    expect(ttlSeconds(1_000 + 90_500, 1_000)).toBe(90);
    expect(ttlSeconds(500, 1_000)).toBe(0);
  });

  it('derives a Topic of at most 32 base64url characters from the alert id', () => {
    expect(pushTopic('01J9Z8Y7X6W5V4T3S2R1Q0P9N8')).toBe('01J9Z8Y7X6W5V4T3S2R1Q0P9N8');
    const hashed = pushTopic('an id with spaces that is far too long to be a topic');
    expect(hashed).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(pushTopic('an id with spaces that is far too long to be a topic')).toBe(hashed);
  });

  it('keeps the frame as it is when it fits, else drops summary, then url', () => {
    const small = '{"type":"alert","eventId":"1-0","alert":{"id":"A","headline":"h","summary":"s"}}';
    expect(pushPayload(small)).toBe(small);
    const big = JSON.stringify({ type: 'alert', eventId: '1-0', alert: { id: 'A', headline: 'h', summary: 'é'.repeat(1990), url: 'https://x.example/' } });
    expect(JSON.parse(pushPayload(big)!)).toEqual({ type: 'alert', eventId: '1-0', alert: { id: 'A', headline: 'h', url: 'https://x.example/' } });
    const huge = JSON.stringify({ type: 'alert', eventId: '1-0', alert: { id: 'A', headline: 'h', summary: 'é'.repeat(1990), url: 'https://x.example/' + 'a'.repeat(2000), topics: ['t'.repeat(1500)] } });
    const out = pushPayload(huge)!;
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    expect(JSON.parse(out).alert.url).toBeUndefined();
    expect(pushPayload(JSON.stringify({ type: 'alert', eventId: '1-0', alert: { id: 'A', headline: 'h', topics: ['t'.repeat(3000)] } }))).toBeUndefined();
  });

  it('counts the TTL from when the event entered the feed', () => {
    const entered = 1_700_000_000_000;
    const e = parseEntry(`${entered}-0`, ['type', 'alert', 'alert', 'A', 'topics', 'world', 'exp', '', 'body', '"alert":{"id":"A","priority":"flash"}'])!;
    const p = preparePush(e, 'flash', entered + 3_600_000)!;
    expect(p.headers).toEqual({ TTL: String(86_400 - 3600), Urgency: 'high', Topic: 'A' });
    expect(p.deadline).toBe(entered + 86_400_000);
  });

  it('reads Retry-After as seconds or a date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000 + 5000).toUTCString(), 10_000)).toBeLessThanOrEqual(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('VAPID', () => {
  it('makes 32-byte private keys even when the scalar starts with a zero byte (one key in 256)', () => {
    let zeroLed = 0;
    for (let i = 0; i < 3000; i++) {
      const pair = generateVapidKeys();
      const d = Buffer.from(pair.privateKey, 'base64url');
      expect(d.length).toBe(32);
      if (d[0] === 0) {
        zeroLed++;
        expect(checkVapidKeys(pair)).toEqual(pair);
      }
    }
    // 3,000 keys hold a zero-led one with probability 1 - (255/256)^3000 > 0.99999.
    expect(zeroLed).toBeGreaterThan(0);
  });

  it('signs ES256 tokens for the origin and reuses one until close to its expiry', () => {
    const pair = generateVapidKeys();
    let now = 1_700_000_000_000;
    const signer = new VapidSigner(pair, 'mailto:desk@news.example', () => now);
    const h1 = signer.authorization('https://push.example/send/abc');
    const m = /^vapid t=(\S+), k=(\S+)$/.exec(h1)!;
    expect(m[2]).toBe(pair.publicKey);
    expect(verifyVapidJwt(m[1]!, pair.publicKey)).toEqual({ aud: 'https://push.example', exp: now / 1000 + TOKEN_LIFETIME_S, sub: 'mailto:desk@news.example' });
    expect(signer.authorization('https://push.example/send/other')).toBe(h1);
    expect(signer.authorization('https://other.example/x')).not.toBe(h1);
    expect(signer.signed).toBe(2);
    now += (TOKEN_LIFETIME_S - 3600) * 1000 - 1000;
    expect(signer.authorization('https://push.example/x')).toBe(h1);
    now += 2000;
    expect(signer.authorization('https://push.example/x')).not.toBe(h1);
    expect(verifyVapidJwt(m[1]!, generateVapidKeys().publicKey)).toBeUndefined();
  });

  it('refuses a given key pair that does not belong together', () => {
    const a = generateVapidKeys();
    const b = generateVapidKeys();
    expect(checkVapidKeys(a)).toEqual(a);
    expect(() => checkVapidKeys({ publicKey: a.publicKey, privateKey: b.privateKey })).toThrow(/does not belong/);
    expect(() => checkVapidKeys({ publicKey: a.publicKey, privateKey: 'AAAA' })).toThrow(/32 bytes/);
  });
});

describe('push endpoint addresses', () => {
  it('tells public addresses from loopback, private, link-local and the like', () => {
    for (const ip of ['8.8.8.8', '142.250.74.106', '2a00:1450:4001:80b::200a', '::ffff:8.8.8.8']) expect([ip, isPublicAddress(ip)]).toEqual([ip, true]);
    for (const ip of ['127.0.0.1', '10.0.0.5', '172.20.1.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'not an ip'])
      expect([ip, isPublicAddress(ip)]).toEqual([ip, false]);
  });
});
