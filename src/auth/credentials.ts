import crypto from 'node:crypto';
import type { CredentialKind } from '../tenancy/store.ts';

/**
 * Credential format. A credential is a public client id plus a secret:
 *   client id  `irin_push_<16 base32 chars>` (also `irin_read_…`, `irin_admin_…`): 80 random bits,
 *              so ids cannot be enumerated; the prefix tells the kind at a glance (and to scanners).
 *   secret     32 random bytes (256 bits), base64url: 43 characters.
 * The single-string form `<client id>.<secret>` is what `Authorization: Bearer` carries; the two
 * parts can also travel as CF-Access-Client-Id/-Secret headers or as basic-auth user/password.
 *
 * Secrets are stored as HMAC-SHA256 under the installation's pepper, never in plain text. A slow
 * password hash (scrypt, argon2) exists to make guessing *low-entropy* secrets expensive; a
 * 256-bit random secret cannot be guessed, so a fast keyed hash loses nothing, keeps the hot
 * push path cheap, and the pepper (outside the database) makes a stolen database useless alone.
 */

export const CLIENT_ID_PREFIX: Record<CredentialKind, string> = {
  push: 'irin_push_',
  read: 'irin_read_',
  admin: 'irin_admin_',
};

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const CLIENT_ID_RE = /^irin_(push|read|admin)_[a-z2-7]{16}$/;
const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

/** Purposes keep hashes of different kinds of value apart (domain separation). */
export type HashPurpose = 'credential' | 'session' | 'recovery-code';

export function randomBase32(length: number): string {
  const bytes = crypto.randomBytes(length);
  let out = '';
  // 256 is a multiple of 32, so masking keeps the distribution uniform.
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

export function newClientId(kind: CredentialKind): string {
  return CLIENT_ID_PREFIX[kind] + randomBase32(16);
}

export function newSecret(): string {
  return crypto.randomBytes(32).toString('base64url');
}

export function isWellFormedClientId(value: string): boolean {
  return CLIENT_ID_RE.test(value);
}

export function isWellFormedSecret(value: string): boolean {
  return SECRET_RE.test(value);
}

/** The kind a client id's prefix announces (undefined when it is not one of ours). */
export function clientIdKind(clientId: string): CredentialKind | undefined {
  const m = CLIENT_ID_RE.exec(clientId);
  return m ? (m[1] as CredentialKind) : undefined;
}

export function composeToken(clientId: string, secret: string): string {
  return `${clientId}.${secret}`;
}

/** Splits `<client id>.<secret>`; undefined when the value does not have that shape. */
export function splitToken(value: string): { clientId: string; secret: string } | undefined {
  const dot = value.indexOf('.');
  if (dot <= 0) return undefined;
  return { clientId: value.slice(0, dot), secret: value.slice(dot + 1) };
}

export class SecretHasher {
  readonly #pepper: Buffer;

  constructor(pepper: Buffer) {
    if (pepper.length < 32) throw new Error('the hashing pepper must be at least 32 bytes');
    this.#pepper = pepper;
  }

  /** HMAC-SHA256(pepper, purpose ‖ 0 ‖ binding ‖ 0 ‖ value): 32 bytes. */
  hash(purpose: HashPurpose, value: string, binding = ''): Buffer {
    return crypto
      .createHmac('sha256', this.#pepper)
      .update(`${purpose}\0${binding}\0${value}`, 'utf8')
      .digest();
  }

  hashCredentialSecret(clientId: string, secret: string): Buffer {
    return this.hash('credential', secret, clientId);
  }

  /** Hash then compare digests in constant time; both sides are 32 bytes, as timingSafeEqual requires. */
  matches(candidateHash: Buffer, storedHash: Buffer | null): boolean {
    if (storedHash === null || storedHash.length !== candidateHash.length) return false;
    return crypto.timingSafeEqual(candidateHash, storedHash);
  }
}
