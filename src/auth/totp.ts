import { Secret, TOTP } from 'otpauth';
import { randomBase32, type SecretHasher } from './credentials.ts';

/**
 * TOTP (RFC 6238: SHA-1, 6 digits, 30 s) through the otpauth package, and recovery codes.
 * A code is accepted one step either side of now (clock drift) and each time step only once
 * (the caller records the step, see ControlPlaneStore.recordTotpStep).
 */
const ISSUER = 'Irin';
const PERIOD = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

function totp(secret: string, account: string): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label: account,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD,
    secret: Secret.fromBase32(secret),
  });
}

/** The otpauth:// URI an authenticator app reads (as a QR code or pasted). It contains the seed. */
export function totpUri(secret: string, account: string): string {
  return totp(secret, account).toString();
}

/** The time step a valid code belongs to, or undefined. */
export function verifyTotp(secret: string, code: string, nowMs = Date.now()): number | undefined {
  const token = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(token)) return undefined;
  const delta = totp(secret, 'verify').validate({ token, timestamp: nowMs, window: 1 });
  if (delta === null) return undefined;
  return Math.floor(nowMs / 1000 / PERIOD) + delta;
}

/** Current code, for tests and for the enrolment check in the CLI. */
export function currentTotp(secret: string, nowMs = Date.now()): string {
  return totp(secret, 'generate').generate({ timestamp: nowMs });
}

export const RECOVERY_CODE_COUNT = 10;

/** `xxxx-xxxx-xxxx` from a 32-letter alphabet: 60 random bits each. */
export function newRecoveryCodes(count = RECOVERY_CODE_COUNT): string[] {
  return Array.from({ length: count }, () => {
    const raw = randomBase32(12);
    return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
  });
}

/** Case, spaces and dashes do not matter when a user types a recovery code. */
export function normalizeRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

export function hashRecoveryCode(hasher: SecretHasher, userId: number, code: string): Buffer {
  return hasher.hash('recovery-code', normalizeRecoveryCode(code), String(userId));
}
