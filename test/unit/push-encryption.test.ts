/**
 * RFC 8291's worked example (Appendix A): the same keys and salt must give
 * the very same bytes, and a browser's side of the exchange must read them.
 */
import { createDecipheriv, createECDH, hkdfSync } from 'node:crypto';
import { encryptPayload, KeyFormatError } from '../../src/push/encryption';

const A = {
  plaintext: 'When I grow up, I want to be a watermelon',
  asPrivate: 'yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw',
  asPublic: 'BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8',
  uaPrivate: 'q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94',
  uaPublic: 'BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4',
  salt: 'DGv6ra1nlYgDCS1FRnbzlw',
  auth: 'BTBZMqHH6r4Tts7J_aSIgg',
  message:
    'DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN',
};

/** The user agent's side (RFC 8291 section 3.4 read backwards), one record. */
function browserDecrypt(message: Buffer, uaPrivate: string, uaPublic: string, auth: string): Buffer {
  const salt = message.subarray(0, 16);
  const idlen = message[20]!;
  const asPublic = message.subarray(21, 21 + idlen);
  const ua = createECDH('prime256v1');
  ua.setPrivateKey(Buffer.from(uaPrivate, 'base64url'));
  const shared = ua.computeSecret(asPublic);
  const info = Buffer.concat([Buffer.from('WebPush: info\0'), Buffer.from(uaPublic, 'base64url'), asPublic]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, Buffer.from(auth, 'base64url'), info, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const body = message.subarray(21 + idlen);
  const d = createDecipheriv('aes-128-gcm', cek, nonce);
  d.setAuthTag(body.subarray(body.length - 16));
  const padded = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  let end = padded.length - 1;
  while (end > 0 && padded[end] === 0) end--;
  expect(padded[end]).toBe(2);
  return padded.subarray(0, end);
}

describe('push message encryption (RFC 8291)', () => {
  it('reproduces Appendix A byte for byte from the same keys and salt', () => {
    const sender = createECDH('prime256v1');
    sender.setPrivateKey(Buffer.from(A.asPrivate, 'base64url'));
    expect(sender.getPublicKey().toString('base64url')).toBe(A.asPublic);
    const out = encryptPayload(A.plaintext, { p256dh: A.uaPublic, auth: A.auth }, { salt: Buffer.from(A.salt, 'base64url'), senderKeys: sender });
    expect(out.toString('base64url')).toBe(A.message);
  });

  it('makes a message the browser reads, with a new key pair and salt each time', () => {
    const ua = createECDH('prime256v1');
    ua.generateKeys();
    const keys = { p256dh: ua.getPublicKey().toString('base64url'), auth: Buffer.alloc(16, 7).toString('base64url') };
    const a = encryptPayload('{"type":"alert"}', keys);
    const b = encryptPayload('{"type":"alert"}', keys);
    expect(a.subarray(0, 16).equals(b.subarray(0, 16))).toBe(false);
    expect(a.subarray(21, 86).equals(b.subarray(21, 86))).toBe(false);
    expect(a.readUInt32BE(16)).toBe(4096);
    expect(browserDecrypt(a, ua.getPrivateKey().toString('base64url'), keys.p256dh, keys.auth).toString()).toBe('{"type":"alert"}');
  });

  it('refuses keys of the wrong shape and messages past one record', () => {
    expect(() => encryptPayload('x', { p256dh: 'AAAA', auth: A.auth })).toThrow(KeyFormatError);
    expect(() => encryptPayload('x', { p256dh: A.uaPublic, auth: 'AAAA' })).toThrow(/16 bytes/);
    expect(() => encryptPayload(Buffer.alloc(4000), { p256dh: A.uaPublic, auth: A.auth })).toThrow(RangeError);
  });
});
