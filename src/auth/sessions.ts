import crypto from 'node:crypto';
import { NotFoundError, ValidationError } from '../tenancy/errors.ts';
import type { ControlPlaneStore, Session, User } from '../tenancy/store.ts';
import type { SecretHasher } from './credentials.ts';
export { SESSION_COOKIE } from './extract.ts';

/**
 * Console sessions. The cookie value is 32 random bytes (base64url); the database keeps only its
 * keyed hash, so a copy of the database cannot be replayed as a cookie. Looking a session up by
 * that hash in SQL is safe: without the pepper, timing on the hash reveals nothing about a cookie.
 * The console's login flow (another part) calls createSession after verifyLogin (./login.ts).
 */

export const DEFAULT_SESSION_TTL_MS = 12 * 3600 * 1000;

interface Plane {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
}

export function sessionIdHash(hasher: SecretHasher, token: string): Buffer {
  return hasher.hash('session', token);
}

export interface CreateSessionInput {
  userId: number;
  /** The organisation the session reads; must be one the user belongs to. */
  tenantId: number | null;
  ttlMs?: number;
  sourceAddr?: string | null;
  now?: number;
}

export async function createSession(
  plane: Plane,
  input: CreateSessionInput,
): Promise<{ token: string; expiresAt: string }> {
  const user = await plane.store.getUser(input.userId);
  if (!user) throw new NotFoundError(`user ${input.userId} not found`);
  if (input.tenantId !== null && !(await plane.store.getMembership(input.tenantId, input.userId))) {
    throw new ValidationError(`user ${user.email} is not a member of tenant ${input.tenantId}`);
  }
  const token = crypto.randomBytes(32).toString('base64url');
  const expiresAt = new Date(
    (input.now ?? Date.now()) + (input.ttlMs ?? DEFAULT_SESSION_TTL_MS),
  ).toISOString();
  await plane.store.createSession({
    idHash: sessionIdHash(plane.hasher, token),
    userId: input.userId,
    tenantId: input.tenantId,
    expiresAt,
    sourceAddr: input.sourceAddr ?? null,
  });
  return { token, expiresAt };
}

/** The live session and its user, or undefined (unknown, expired, or user gone). */
export async function verifySession(
  plane: Plane,
  token: string,
  now = Date.now(),
): Promise<{ session: Session; user: User } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const session = await plane.store.getSession(sessionIdHash(plane.hasher, token));
  if (!session || Date.parse(session.expiresAt) <= now) return undefined;
  const user = await plane.store.getUser(session.userId);
  return user ? { session, user } : undefined;
}

/** Switches the organisation a session reads (the user must be a member). */
export async function switchSessionTenant(plane: Plane, token: string, tenantId: number): Promise<boolean> {
  const found = await verifySession(plane, token);
  if (!found || !(await plane.store.getMembership(tenantId, found.user.id))) return false;
  return plane.store.setSessionTenant(sessionIdHash(plane.hasher, token), tenantId);
}

export async function expireSession(plane: Plane, token: string): Promise<boolean> {
  return plane.store.deleteSession(sessionIdHash(plane.hasher, token));
}

export async function expireUserSessions(plane: Plane, userId: number): Promise<number> {
  return plane.store.deleteUserSessions(userId);
}

export async function purgeExpiredSessions(plane: Plane, now = Date.now()): Promise<number> {
  return plane.store.deleteExpiredSessions(new Date(now).toISOString());
}
