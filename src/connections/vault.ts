import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../lib/logger.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const GENERATED_KEY_FILE = 'encryption.key';

/** A sealed secret: the key that sealed it and `base64(iv | tag | ciphertext)`. */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

/**
 * Encrypts secrets at rest with AES-256-GCM. Each ciphertext is stored beside the id of the
 * key that sealed it, so a new key can be introduced while old ciphertexts still open.
 */
export class Vault {
  readonly #keys = new Map<string, Buffer>();

  /** Builds a vault whose first key seals new values and whose every key opens stored ones. */
  constructor(keys: Buffer[]) {
    if (keys.length === 0) throw new Error('Vault needs at least one key');
    for (const key of keys) {
      if (key.length !== KEY_BYTES) throw new Error(`An encryption key must be ${KEY_BYTES} bytes, got ${key.length}`);
      this.#keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(keys[0]!);
  }

  readonly currentKeyId: string;

  seal(plaintext: string): Sealed {
    const key = this.#keys.get(this.currentKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return { keyId: this.currentKeyId, ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64') };
  }

  open(sealed: Sealed): string {
    const key = this.#keys.get(sealed.keyId);
    if (!key) {
      throw new Error(`No encryption key with id ${sealed.keyId} is configured; add the key that sealed this value to SEATWISE_ENCRYPTION_KEY`);
    }
    const data = Buffer.from(sealed.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }
}

/** Derives a key's id from the first 16 hex digits of its SHA-256, which reveal nothing usable about the key. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * Builds the vault from SEATWISE_ENCRYPTION_KEY (comma-separated base64 keys, the sealing key
 * first) or, when unset, from a key generated into the data folder on first start.
 */
export function loadVault(options: { encryptionKey: string | undefined; dataDir: string; logger: Logger }): Vault {
  if (options.encryptionKey) {
    return new Vault(options.encryptionKey.split(',').map((value) => Buffer.from(value.trim(), 'base64')));
  }

  const keyFile = join(options.dataDir, GENERATED_KEY_FILE);
  if (!existsSync(keyFile)) {
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(keyFile, randomBytes(KEY_BYTES).toString('base64'), { mode: 0o600 });
    options.logger.warn(
      { keyFile },
      'Generated an encryption key in the data folder; set SEATWISE_ENCRYPTION_KEY in production and keep it out of backups of the data',
    );
  }
  return new Vault([Buffer.from(readFileSync(keyFile, 'utf8').trim(), 'base64')]);
}
