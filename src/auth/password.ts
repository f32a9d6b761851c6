import crypto from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Password hashing with scrypt (node:crypto), a fresh 16-byte salt per hash. Stored as
 * `scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>` so the cost can be raised later while old
 * hashes still verify. N = 2^15, r = 8 (32 MiB, ~0.1 s per hash): the cost is the point here,
 * because passwords, unlike generated secrets, can be guessed.
 */
const scrypt = promisify(crypto.scrypt) as (
  password: crypto.BinaryLike,
  salt: crypto.BinaryLike,
  keylen: number,
  options: crypto.ScryptOptions,
) => Promise<Buffer>;

const COST = { N: 1 << 15, r: 8, p: 1 };
const KEY_LENGTH = 32;
const PASSWORD_MIN = 12;
const PASSWORD_MAX = 1024;

export const PASSWORD_RULE = `a password is ${PASSWORD_MIN}-${PASSWORD_MAX} characters`;

export function passwordProblem(password: string): string | undefined {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) return PASSWORD_RULE;
  return undefined;
}

function maxmem(N: number, r: number): number {
  return 128 * N * r * 2;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const { N, r, p } = COST;
  const hash = await scrypt(password.normalize('NFC'), salt, KEY_LENGTH, { N, r, p, maxmem: maxmem(N, r) });
  return ['scrypt', N, r, p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const salt = Buffer.from(parts[4]!, 'base64url');
  const expected = Buffer.from(parts[5]!, 'base64url');
  if (!(N > 1 && r > 0 && p > 0) || expected.length === 0) return false;
  const actual = await scrypt(password.normalize('NFC'), salt, expected.length, {
    N,
    r,
    p,
    maxmem: maxmem(N, r),
  });
  return crypto.timingSafeEqual(actual, expected);
}

/** A hash of a random password: verifying against it costs the same as a real one (no user-exists timing). */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  return dummyHash;
}

/** A random password for `user create` without one: 20 base64url characters (120 bits). */
export function generatePassword(): string {
  return crypto.randomBytes(15).toString('base64url');
}
