import crypto from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Per-installation key material, kept in a file of its own beside (not inside) the database, so a
 * leaked copy of the database alone reveals neither usable hashes nor encrypted values:
 * - `pepper`: the HMAC key under which credential secrets, session ids and recovery codes are hashed;
 * - `dataKey`: the AES-256-GCM key for values that must be readable again (TOTP seeds, secret
 *   probe headers).
 * Several Irin processes sharing one control plane (PostgreSQL) must share this file.
 */
export interface InstallKeys {
  readonly pepper: Buffer;
  readonly dataKey: Buffer;
}

interface KeyFile {
  version: 1;
  pepper: string;
  dataKey: string;
}

export function generateInstallKeys(): InstallKeys {
  return { pepper: crypto.randomBytes(32), dataKey: crypto.randomBytes(32) };
}

/**
 * Reads the key file, creating it (mode 0600) if absent. Creation uses O_EXCL so that a server and
 * a CLI starting at the same moment cannot each write different keys.
 */
export function loadOrCreateInstallKeys(path: string): InstallKeys {
  try {
    return parseKeyFile(readFileSync(path, 'utf8'), path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const keys = generateInstallKeys();
  const body: KeyFile = {
    version: 1,
    pepper: keys.pepper.toString('base64'),
    dataKey: keys.dataKey.toString('base64'),
  };
  try {
    writeFileSync(path, `${JSON.stringify(body)}\n`, { flag: 'wx', mode: 0o600 });
    return keys;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return parseKeyFile(readFileSync(path, 'utf8'), path);
  }
}

function parseKeyFile(text: string, path: string): InstallKeys {
  let parsed: Partial<KeyFile>;
  try {
    parsed = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw new Error(
      `key file ${path} is not valid JSON; restore it from a backup (credentials depend on it)`,
    );
  }
  const pepper = Buffer.from(parsed.pepper ?? '', 'base64');
  const dataKey = Buffer.from(parsed.dataKey ?? '', 'base64');
  if (parsed.version !== 1 || pepper.length !== 32 || dataKey.length !== 32) {
    throw new Error(`key file ${path} is malformed: expected version 1 with 32-byte pepper and dataKey`);
  }
  return { pepper, dataKey };
}

/**
 * Authenticated encryption of small values at rest. The associated data binds a ciphertext to
 * its row (e.g. `totp:user:12`), so a value copied into another row does not decrypt.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('SecretBox needs a 32-byte key');
    this.#key = key;
  }

  seal(plaintext: string, context: string): string {
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      'v1',
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      body.toString('base64url'),
    ].join(':');
  }

  open(sealed: string, context: string): string {
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
      throw new Error('sealed value has an unknown format');
    }
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}
