import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecretHasher } from '../auth/credentials.ts';
import { headerLines, SESSION_COOKIE } from '../auth/extract.ts';
import { verifySession } from '../auth/sessions.ts';
import type { ControlPlaneStore, Membership, Session, Tenant, User } from '../tenancy/store.ts';
import type { Role } from '../tenancy/validation.ts';
import { ConsoleError } from './http.ts';

/**
 * The console session cookie and what a request's session resolves to.
 *
 * Cookie: `irin_session=<32 random bytes>; Path=/; HttpOnly; SameSite=Strict; Max-Age=<ttl>`
 * (+ `Secure` when TLS is on). Path is `/` because the same cookie is the read credential for
 * /prometheus, /loki and the endpoint status API. SameSite=Strict rather than Lax: the console is
 * a single-page app whose data requests are all same-site fetches, so Strict costs nothing (a
 * link from elsewhere still loads the page, whose fetches then carry the cookie) and it keeps the
 * cookie off every cross-site request, top-level navigations included.
 */

export interface Plane {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
}

export interface CurrentOrg {
  readonly tenant: Tenant;
  /** The member's role; a platform admin acts as `admin` in every org they belong to. */
  readonly role: Role;
}

export interface ConsoleSession {
  readonly token: string;
  readonly session: Session;
  readonly user: User;
  readonly csrfToken: string;
  readonly memberships: Membership[];
  /** Undefined when the session has no org (a platform admin without memberships) or lost it. */
  readonly org?: CurrentOrg;
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.round(maxAgeSeconds))}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function setSessionCookie(
  reply: FastifyReply,
  token: string,
  expiresAt: string,
  secure: boolean,
  now: number,
): void {
  reply.header('set-cookie', sessionCookie(token, (Date.parse(expiresAt) - now) / 1000, secure));
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.header('set-cookie', sessionCookie('', 0, secure));
}

/** The session cookie's value; undefined when absent, empty, or sent twice with different values. */
export function readSessionCookie(request: FastifyRequest): string | undefined {
  const values = new Set<string>();
  for (const header of headerLines(request).get('cookie') ?? []) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) values.add(part.slice(eq + 1).trim());
    }
  }
  if (values.size !== 1) return undefined;
  const [value] = values;
  return value === '' ? undefined : value;
}

/** The CSRF token of a session: a keyed hash of its secret, never stored, distinct from the stored id hash. */
export function csrfTokenFor(hasher: SecretHasher, sessionToken: string): string {
  return hasher.hash('session', sessionToken, 'console-csrf').toString('base64url');
}

/** Resolves the request's session, or undefined when there is none (or it expired, or the user is gone). */
export async function loadSession(
  plane: Plane,
  request: FastifyRequest,
  now: number,
): Promise<ConsoleSession | undefined> {
  const token = readSessionCookie(request);
  if (!token) return undefined;
  const found = await verifySession(plane, token, now);
  if (!found) return undefined;
  const { session, user } = found;
  // The authenticator refuses such a session for reads; the console refuses it altogether.
  if (user.platformAdmin && !user.mfaEnabled) return undefined;
  const memberships = await plane.store.listUserMemberships(user.id);
  let org: CurrentOrg | undefined;
  const current = memberships.find((m) => m.tenantId === session.tenantId);
  if (current) {
    const tenant = await plane.store.getTenant(current.tenantId);
    if (tenant && tenant.status !== 'decommissioned') {
      org = { tenant, role: user.platformAdmin ? 'admin' : current.role };
    }
  }
  return { token, session, user, csrfToken: csrfTokenFor(plane.hasher, token), memberships, org };
}

export function requireSignedIn(s: ConsoleSession | undefined): ConsoleSession {
  if (!s) throw new ConsoleError(401, 'not signed in (or the session expired)');
  return s;
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

/** The current org, requiring at least `role` in it. Without an org there is nothing to act on: 404. */
export function requireOrg(s: ConsoleSession, role: Role = 'viewer'): CurrentOrg {
  if (!s.org) throw new ConsoleError(404, 'no organisation selected');
  if (RANK[s.org.role] < RANK[role]) {
    throw new ConsoleError(403, `this needs the ${role} role in ${s.org.tenant.displayName}`);
  }
  return s.org;
}

export function requirePlatformAdmin(s: ConsoleSession): void {
  // 404 rather than 403: the platform pages' existence is nothing a tenant needs to learn.
  if (!s.user.platformAdmin) throw new ConsoleError(404, 'not found');
}
