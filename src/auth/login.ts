import type { ControlPlaneStore, User } from '../tenancy/store.ts';
import type { SecretHasher } from './credentials.ts';
import { dummyPasswordHash, verifyPassword } from './password.ts';
import { hashRecoveryCode, verifyTotp } from './totp.ts';

/**
 * Checks a console sign-in: password, then the second factor. The console (another part) owns
 * the HTTP flow, rate limiting of its form and the session cookie; this is the decision.
 *
 * - Unknown email and wrong password give the same answer after the same work (a dummy scrypt).
 * - A platform admin without MFA cannot sign in at all: they enrol first (`irin user enrol-mfa`).
 * - A TOTP code is accepted once per time step; a recovery code once, ever.
 */
export type LoginResult =
  | { ok: true; user: User; usedRecoveryCode: boolean }
  | {
      ok: false;
      reason: 'invalid-credentials' | 'mfa-required' | 'invalid-mfa-code' | 'mfa-enrolment-required';
    };

export interface LoginInput {
  email: string;
  password: string;
  /** A 6-digit TOTP code… */
  code?: string;
  /** …or one of the user's recovery codes. */
  recoveryCode?: string;
  sourceAddr?: string | null;
  now?: number;
}

export async function verifyLogin(
  plane: { store: ControlPlaneStore; hasher: SecretHasher },
  input: LoginInput,
): Promise<LoginResult> {
  const { store, hasher } = plane;
  const now = input.now ?? Date.now();
  const email = input.email.trim().toLowerCase();
  const user = await store.getUserByEmail(email);
  const creds = user ? await store.getUserCredentials(user.id) : undefined;
  const passwordOk = await verifyPassword(input.password, creds?.passwordHash ?? (await dummyPasswordHash()));
  const audit = (action: string, details: Record<string, unknown>) =>
    store.appendAudit({
      actor: user ? `user:${user.id}` : 'anonymous',
      action,
      tenantId: null,
      target: email.slice(0, 254),
      sourceAddr: input.sourceAddr ?? null,
      at: new Date(now).toISOString(),
      details,
    });

  if (!user || !creds || !passwordOk) {
    await audit('user.login-failed', { reason: 'invalid credentials' });
    return { ok: false, reason: 'invalid-credentials' };
  }
  if (!creds.user.mfaEnabled) {
    if (creds.user.platformAdmin) {
      await audit('user.login-failed', { reason: 'platform admin without MFA' });
      return { ok: false, reason: 'mfa-enrolment-required' };
    }
    await audit('user.login', { mfa: false });
    return { ok: true, user: creds.user, usedRecoveryCode: false };
  }
  if (input.code === undefined && input.recoveryCode === undefined)
    return { ok: false, reason: 'mfa-required' };
  let ok = false;
  if (input.code !== undefined && creds.totpSecret) {
    const step = verifyTotp(creds.totpSecret, input.code, now);
    ok = step !== undefined && (await store.recordTotpStep(user.id, step));
  } else if (input.recoveryCode !== undefined) {
    ok = await store.consumeRecoveryCode(user.id, hashRecoveryCode(hasher, user.id, input.recoveryCode));
  }
  if (!ok) {
    await audit('user.login-failed', { reason: 'invalid second factor' });
    return { ok: false, reason: 'invalid-mfa-code' };
  }
  await audit('user.login', { mfa: true, withRecoveryCode: input.code === undefined });
  return { ok: true, user: creds.user, usedRecoveryCode: input.code === undefined };
}
