import { generatePassword, hashPassword, passwordProblem } from '../../auth/password.ts';
import { hashRecoveryCode, newRecoveryCodes, newTotpSecret, totpUri, verifyTotp } from '../../auth/totp.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type { Membership, User } from '../store.ts';
import { normalizeEmail, validateDisplayName, validateRole } from '../validation.ts';
import { nowMs, requireLiveTenant, requireTenant, type ServiceContext } from './context.ts';

export interface CreateUserInput {
  email: string;
  displayName?: string;
  /** Omitted: a random password is generated and returned once. */
  password?: string;
  platformAdmin?: boolean;
}

export async function createUser(
  ctx: ServiceContext,
  input: CreateUserInput,
): Promise<{ user: User; generatedPassword?: string }> {
  const email = normalizeEmail(input.email);
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password);
    if (problem) throw new ValidationError(`invalid password: ${problem}`);
  }
  const password = input.password ?? generatePassword();
  const user = await ctx.store.createUser(
    {
      email,
      displayName: input.displayName === undefined ? '' : validateDisplayName(input.displayName),
      passwordHash: await hashPassword(password),
      platformAdmin: input.platformAdmin ?? false,
    },
    ctx.by,
  );
  return input.password === undefined ? { user, generatedPassword: password } : { user };
}

export async function requireUser(ctx: ServiceContext, email: string): Promise<User> {
  const user = await ctx.store.getUserByEmail(normalizeEmail(email));
  if (!user) throw new NotFoundError(`user "${email}" not found`);
  return user;
}

export async function listUsers(ctx: ServiceContext, tenantSlug?: string): Promise<User[] | Membership[]> {
  if (tenantSlug === undefined) return ctx.store.listUsers();
  const tenant = await requireTenant(ctx, tenantSlug);
  return ctx.store.listTenantMembers(tenant.id);
}

export async function showUser(
  ctx: ServiceContext,
  email: string,
): Promise<{ user: User; memberships: Membership[] }> {
  const user = await requireUser(ctx, email);
  return { user, memberships: await ctx.store.listUserMemberships(user.id) };
}

export async function addUserToOrg(
  ctx: ServiceContext,
  email: string,
  tenantSlug: string,
  role: string,
): Promise<Membership> {
  const r = validateRole(role);
  const [user, tenant] = await Promise.all([requireUser(ctx, email), requireLiveTenant(ctx, tenantSlug)]);
  const existing = await ctx.store.getMembership(tenant.id, user.id);
  if (existing) {
    throw new ConflictError(
      `user "${user.email}" is already a member of "${tenant.slug}" (role ${existing.role}); use set-role`,
    );
  }
  return (await ctx.store.setMembership(tenant.id, user.id, r, ctx.by)).membership;
}

export async function setUserRole(
  ctx: ServiceContext,
  email: string,
  tenantSlug: string,
  role: string,
): Promise<Membership> {
  const r = validateRole(role);
  const [user, tenant] = await Promise.all([requireUser(ctx, email), requireLiveTenant(ctx, tenantSlug)]);
  if (!(await ctx.store.getMembership(tenant.id, user.id))) {
    throw new NotFoundError(`user "${user.email}" is not a member of "${tenant.slug}"; use add-to-org`);
  }
  return (await ctx.store.setMembership(tenant.id, user.id, r, ctx.by)).membership;
}

export async function removeUserFromOrg(
  ctx: ServiceContext,
  email: string,
  tenantSlug: string,
): Promise<void> {
  const [user, tenant] = await Promise.all([requireUser(ctx, email), requireTenant(ctx, tenantSlug)]);
  if (!(await ctx.store.removeMembership(tenant.id, user.id, ctx.by))) {
    throw new NotFoundError(`user "${user.email}" is not a member of "${tenant.slug}"`);
  }
}

export async function setUserPassword(
  ctx: ServiceContext,
  email: string,
  password?: string,
): Promise<{ user: User; generatedPassword?: string }> {
  const user = await requireUser(ctx, email);
  if (password !== undefined) {
    const problem = passwordProblem(password);
    if (problem) throw new ValidationError(`invalid password: ${problem}`);
  }
  const chosen = password ?? generatePassword();
  await ctx.store.setUserPassword(user.id, await hashPassword(chosen), ctx.by);
  await ctx.store.deleteUserSessions(user.id);
  return password === undefined ? { user, generatedPassword: chosen } : { user };
}

export async function setPlatformAdmin(
  ctx: ServiceContext,
  email: string,
  platformAdmin: boolean,
): Promise<User> {
  const user = await requireUser(ctx, email);
  await ctx.store.setPlatformAdmin(user.id, platformAdmin, ctx.by);
  return (await ctx.store.getUser(user.id))!;
}

/**
 * Starts TOTP enrolment: stores a new seed (encrypted) and returns the otpauth URI for the
 * user's authenticator app. MFA is on only after confirmMfa proves the app produces valid codes.
 */
export async function enrolMfa(
  ctx: ServiceContext,
  email: string,
): Promise<{ user: User; otpauthUri: string }> {
  const user = await requireUser(ctx, email);
  const secret = newTotpSecret();
  await ctx.store.beginMfaEnrolment(user.id, secret, ctx.by);
  return { user, otpauthUri: totpUri(secret, user.email) };
}

/** Confirms enrolment with a current code; returns the recovery codes, shown this once. */
export async function confirmMfa(
  ctx: ServiceContext,
  email: string,
  code: string,
): Promise<{ user: User; recoveryCodes: string[] }> {
  const user = await requireUser(ctx, email);
  const creds = await ctx.store.getUserCredentials(user.id);
  if (!creds?.totpSecret)
    throw new ConflictError(`user "${user.email}" has no MFA enrolment in progress; run enrol-mfa first`);
  if (creds.user.mfaEnabled) throw new ConflictError(`user "${user.email}" already has MFA enabled`);
  const step = verifyTotp(creds.totpSecret, code, nowMs(ctx));
  if (step === undefined || !(await ctx.store.recordTotpStep(user.id, step))) {
    throw new ValidationError(
      'the code is not valid for this enrolment (check the device clock and use a fresh code)',
    );
  }
  const codes = newRecoveryCodes();
  await ctx.store.completeMfaEnrolment(
    user.id,
    codes.map((c) => hashRecoveryCode(ctx.hasher, user.id, c)),
    ctx.by,
  );
  return { user: (await ctx.store.getUser(user.id))!, recoveryCodes: codes };
}

/** For a user who lost their device: MFA off, seed and recovery codes gone, sessions ended. */
export async function resetMfa(ctx: ServiceContext, email: string): Promise<User> {
  const user = await requireUser(ctx, email);
  await ctx.store.resetMfa(user.id, ctx.by);
  return (await ctx.store.getUser(user.id))!;
}
