/**
 * Web Push message encryption (RFC 8291): the `aes128gcm` content coding of
 * RFC 8188, keyed by an ECDH agreement between a one-off key pair of ours
 * and the browser's `p256dh` key, mixed with its `auth` secret.
 *
 * Written on node:crypto rather than taken from a package: it is some forty
 * lines, every step is pinned by the RFC's worked example (Appendix A, in
 * test/unit/push-encryption.test.ts), and an independent implementation
 * decrypts what it makes in the integration test.
 */
import { createCipheriv, createECDH, hkdfSync, randomBytes, type ECDH } from 'node:crypto';

/** The browser's half of a subscription, as `PushSubscription.toJSON().keys` gives it. */
export interface SubscriptionKeys {
  /** Uncompressed P-256 public key, base64url (65 bytes). */
  p256dh: string;
  /** Authentication secret, base64url (16 bytes). */
  auth: string;
}

/** One record carries the whole message: push services accept at most 4096 bytes. */
const RECORD_SIZE = 4096;
/** Header (salt 16, rs 4, idlen 1, key 65), tag 16 and the padding delimiter 1. */
const OVERHEAD = 16 + 4 + 1 + 65 + 16 + 1;

export class KeyFormatError extends Error {}

/** Decodes and checks a subscription's keys; throws KeyFormatError naming what is wrong. */
export function decodeKeys(keys: SubscriptionKeys): { uaPublic: Buffer; auth: Buffer } {
  const uaPublic = Buffer.from(keys.p256dh, 'base64url');
  const auth = Buffer.from(keys.auth, 'base64url');
  if (uaPublic.length !== 65 || uaPublic[0] !== 0x04) throw new KeyFormatError('p256dh must be an uncompressed P-256 public key (65 bytes, base64url)');
  if (auth.length !== 16) throw new KeyFormatError('auth must be 16 bytes, base64url');
  return { uaPublic, auth };
}

export interface EncryptOptions {
  /** Fixed salt, for the RFC's test vector only; random otherwise. */
  salt?: Buffer;
  /** Fixed sender key pair, for the RFC's test vector only; a new one per message otherwise. */
  senderKeys?: ECDH;
}

function hkdf(ikm: Buffer, salt: Buffer, info: Buffer, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, length));
}

/** Encrypts one push message body (RFC 8291 section 3.4, RFC 8188 section 2). */
export function encryptPayload(plaintext: Buffer | string, keys: SubscriptionKeys, options: EncryptOptions = {}): Buffer {
  const { uaPublic, auth } = decodeKeys(keys);
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext;
  if (data.length + OVERHEAD > RECORD_SIZE) throw new RangeError(`push message of ${data.length} bytes does not fit one ${RECORD_SIZE}-byte record`);

  // RFC 8291 section 3.1: a new key pair for every message.
  const sender = options.senderKeys ?? createECDH('prime256v1');
  if (!options.senderKeys) sender.generateKeys();
  const asPublic = sender.getPublicKey();
  const salt = options.salt ?? randomBytes(16);

  const ecdhSecret = sender.computeSecret(uaPublic);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, asPublic]);
  const ikm = hkdf(ecdhSecret, auth, keyInfo, 32);
  const cek = hkdf(ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16);
  const nonce = hkdf(ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12);

  // One record, so it is the last: the delimiter is 0x02 and no padding follows.
  const cipher = createCipheriv('aes-128-gcm', cek, nonce);
  const body = Buffer.concat([cipher.update(data), cipher.update(Buffer.from([2])), cipher.final(), cipher.getAuthTag()]);

  const header = Buffer.alloc(21);
  salt.copy(header, 0);
  header.writeUInt32BE(RECORD_SIZE, 16);
  header.writeUInt8(asPublic.length, 20);
  return Buffer.concat([header, asPublic, body]);
}
