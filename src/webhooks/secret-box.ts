/**
 * Webhook secrets at rest. With FLASHWIRE_SECRET_KEY set they are sealed
 * with AES-256-GCM (a fresh 12-byte nonce each, the tag checked on open);
 * without it they are stored as they are.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const SEALED = 'gcm1:';

export class SecretBox {
  private readonly key: Buffer | undefined;

  constructor(secretKey: string | undefined) {
    // Any long passphrase works: SHA-256 turns it into the 32-byte key.
    this.key = secretKey ? createHash('sha256').update(secretKey, 'utf8').digest() : undefined;
  }

  get encrypting(): boolean {
    return this.key !== undefined;
  }

  seal(plain: string): string {
    if (!this.key) return plain;
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return SEALED + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  open(stored: string): string {
    if (!stored.startsWith(SEALED)) return stored;
    if (!this.key) throw new Error('a webhook secret is encrypted but FLASHWIRE_SECRET_KEY is not set');
    const raw = Buffer.from(stored.slice(SEALED.length), 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }
}
