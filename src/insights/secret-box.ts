import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// AES-256-GCM for secrets at rest (the broker password). Stored as `v1:<iv>:<tag>:<ciphertext>`,
// each part base64, so the format can change later without guessing what an old value is.
// The purpose string is authenticated too (AAD): a ciphertext copied into another column or
// table does not decrypt there.

const VERSION = 'v1';
const IV_BYTES = 12; // the size GCM is specified for
const TAG_BYTES = 16;

export class SecretBox {
  constructor(
    private readonly key: Buffer,
    private readonly purpose: string,
  ) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key (AES-256)');
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(this.purpose, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join(':');
  }

  /** Throws when the value was not produced by this key and purpose (or was tampered with). */
  decrypt(sealed: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('unknown secret format');
    const [, iv, tag, ct] = parts.map((p) => Buffer.from(p, 'base64'));
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('unknown secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(this.purpose, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  }
}
