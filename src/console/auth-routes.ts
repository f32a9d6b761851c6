import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { verifyLogin } from '../auth/login.ts';
import { verifyPassword } from '../auth/password.ts';
import { createSession, expireSession, switchSessionTenant } from '../auth/sessions.ts';
import { confirmMfa, enrolMfa, setUserPassword } from '../tenancy/services/users.ts';
import type { Tenant, User } from '../tenancy/store.ts';
import { authed, handler, type ConsoleContext } from './context.ts';
import { body, clientAddr, ConsoleError, notFound, str } from './http.ts';
import { clearSessionCookie, csrfTokenFor, setSessionCookie, type ConsoleSession } from './session.ts';

/**
 * Sign-in, sign-out, MFA enrolment, session info and org switch (`/api/console/...`).
 *
 * Sign-in is one endpoint called up to twice: first with email and password; when the account has
 * MFA the answer is `mfa-required` and the page asks for a code, then calls again with email,
 * password and the code (or a recovery code). The decision is verifyLogin's (src/auth/login.ts)
 * each time, so no half-signed-in state exists on the server. A platform admin without MFA gets
 * `enrolment-required` with a short-lived signed ticket that allows exactly the enrolment calls;
 * confirming the enrolment signs them in.
 */

const ENROL_TICKET_TTL_MS = 10 * 60_000;

export interface MeResponse {
  user: { id: number; email: string; displayName: string; platformAdmin: boolean; mfaEnabled: boolean };
  orgs: { id: number; slug: string; displayName: string; role: string; status: string }[];
  currentOrg: { id: number; slug: string; displayName: string; role: string; status: string } | null;
  csrfToken: string;
  expiresAt: string;
}

async function describeMe(ctx: ConsoleContext, s: ConsoleSession): Promise<MeResponse> {
  const tenants = await Promise.all(s.memberships.map((m) => ctx.store.getTenant(m.tenantId)));
  const orgs = s.memberships
    .map((m, i) => ({ m, t: tenants[i] }))
    .filter(
      (x): x is { m: (typeof s.memberships)[number]; t: Tenant } => !!x.t && x.t.status !== 'decommissioned',
    )
    .map(({ m, t }) => ({
      id: t.id,
      slug: t.slug,
      displayName: t.displayName,
      role: s.user.platformAdmin ? 'admin' : m.role,
      status: t.status,
    }))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
  return {
    user: {
      id: s.user.id,
      email: s.user.email,
      displayName: s.user.displayName,
      platformAdmin: s.user.platformAdmin,
      mfaEnabled: s.user.mfaEnabled,
    },
    orgs,
    currentOrg: orgs.find((o) => o.id === s.org?.tenant.id) ?? null,
    csrfToken: s.csrfToken,
    expiresAt: s.session.expiresAt,
  };
}

/** The org a new session starts in: the preferred one if still a live membership, else the first by name. */
async function initialOrg(ctx: ConsoleContext, user: User, preferred?: number): Promise<number | null> {
  const memberships = await ctx.store.listUserMemberships(user.id);
  const tenants = (await Promise.all(memberships.map((m) => ctx.store.getTenant(m.tenantId)))).filter(
    (t): t is Tenant => !!t && t.status !== 'decommissioned',
  );
  tenants.sort((a, b) => a.displayName.localeCompare(b.displayName));
  return (tenants.find((t) => t.id === preferred) ?? tenants[0])?.id ?? null;
}

function ticketSignature(ctx: ConsoleContext, payload: string): string {
  return ctx.hasher.hash('session', payload, 'console-enrol-ticket').toString('base64url');
}

function issueEnrolTicket(ctx: ConsoleContext, userId: number): string {
  const payload = `${userId}.${ctx.now() + ENROL_TICKET_TTL_MS}`;
  return `${payload}.${ticketSignature(ctx, payload)}`;
}

/** The user an enrolment ticket was issued to, if the ticket is genuine, unexpired and still needed. */
async function userFromTicket(ctx: ConsoleContext, ticket: string): Promise<User> {
  const m = /^(\d{1,15})\.(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(ticket);
  const invalid = new ConsoleError(401, 'the enrolment ticket is invalid or expired; sign in again');
  if (!m) throw invalid;
  const expected = Buffer.from(ticketSignature(ctx, `${m[1]}.${m[2]}`));
  const got = Buffer.from(m[3]!);
  if (expected.length !== got.length || !crypto.timingSafeEqual(expected, got)) throw invalid;
  if (Number(m[2]) <= ctx.now()) throw invalid;
  const user = await ctx.store.getUser(Number(m[1]));
  if (!user || user.mfaEnabled) throw invalid;
  return user;
}

async function startSession(
  ctx: ConsoleContext,
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
  preferredOrg?: number,
): Promise<MeResponse> {
  const tenantId = await initialOrg(ctx, user, preferredOrg);
  const { token, expiresAt } = await createSession(ctx, {
    userId: user.id,
    tenantId,
    ttlMs: ctx.sessionTtlMs,
    sourceAddr: clientAddr(request),
    now: ctx.now(),
  });
  setSessionCookie(reply, token, expiresAt, ctx.secure, ctx.now());
  const memberships = await ctx.store.listUserMemberships(user.id);
  const tenant = tenantId === null ? undefined : await ctx.store.getTenant(tenantId);
  const membership = memberships.find((m) => m.tenantId === tenantId);
  return describeMe(ctx, {
    token,
    user,
    csrfToken: csrfTokenFor(ctx.hasher, token),
    memberships,
    session: {
      userId: user.id,
      tenantId,
      createdAt: new Date(ctx.now()).toISOString(),
      expiresAt,
      sourceAddr: null,
    },
    ...(tenant && membership
      ? { org: { tenant, role: user.platformAdmin ? ('admin' as const) : membership.role } }
      : {}),
  });
}

function throttled(seconds: number): ConsoleError {
  return new ConsoleError(429, `too many failed sign-in attempts; try again in ${seconds} s`, seconds);
}

export async function authRoutes(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  app.post(
    '/api/console/sign-in',
    handler(async (request, reply) => {
      const b = body(request);
      const email = str(b, 'email');
      const password = str(b, 'password');
      const code = str(b, 'code', { optional: true });
      const recoveryCode = str(b, 'recoveryCode', { optional: true });
      const addr = clientAddr(request);
      const blocked = ctx.limiter.blockedFor(addr, email, ctx.now());
      if (blocked > 0) throw throttled(blocked);
      const result = await verifyLogin(ctx, {
        email,
        password,
        ...(code !== undefined ? { code } : {}),
        ...(recoveryCode !== undefined ? { recoveryCode } : {}),
        sourceAddr: addr,
        now: ctx.now(),
      });
      if (result.ok) {
        const me = await startSession(ctx, request, reply, result.user);
        return { status: 'signed-in', usedRecoveryCode: result.usedRecoveryCode, me };
      }
      switch (result.reason) {
        case 'mfa-required':
          return { status: 'mfa-required' };
        case 'mfa-enrolment-required': {
          const user = await ctx.store.getUserByEmail(email.trim().toLowerCase());
          if (!user) throw new ConsoleError(401, 'invalid email or password');
          return { status: 'enrolment-required', ticket: issueEnrolTicket(ctx, user.id) };
        }
        case 'invalid-mfa-code':
          ctx.limiter.recordFailure(addr, email, ctx.now());
          throw new ConsoleError(401, 'invalid code; use the current code from your authenticator app');
        default:
          ctx.limiter.recordFailure(addr, email, ctx.now());
          throw new ConsoleError(401, 'invalid email or password');
      }
    }),
  );

  app.post(
    '/api/console/sign-out',
    handler(async (request, reply) => {
      const s = await ctx.session(request);
      if (s) await expireSession(ctx, s.token);
      clearSessionCookie(reply, ctx.secure);
      return { status: 'signed-out' };
    }),
  );

  app.get(
    '/api/console/me',
    authed(ctx, async (_request, s) => describeMe(ctx, s)),
  );

  app.post(
    '/api/console/org',
    authed(ctx, async (request, s) => {
      const raw = body(request).orgId;
      const orgId = typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : NaN;
      const member = s.memberships.find((m) => m.tenantId === orgId);
      const tenant = member && (await ctx.store.getTenant(member.tenantId));
      // Not a member, or no such org: the same 404, so nothing is learned about other orgs.
      if (!tenant || tenant.status === 'decommissioned') throw notFound('organisation not found');
      if (!(await switchSessionTenant(ctx, s.token, tenant.id))) throw notFound('organisation not found');
      return describeMe(ctx, {
        ...s,
        session: { ...s.session, tenantId: tenant.id },
        org: { tenant, role: s.user.platformAdmin ? 'admin' : member.role },
      });
    }),
  );

  /**
   * Password change: the current password is checked (rate-limited like sign-in), the new one set
   * through the users service, which ends every session of the user; this one is replaced by a new
   * session so the user stays signed in here.
   */
  app.post(
    '/api/console/account/password',
    authed(ctx, async (request, s, reply) => {
      const b = body(request);
      const current = str(b, 'currentPassword');
      const next = str(b, 'newPassword');
      const addr = clientAddr(request);
      const blocked = ctx.limiter.blockedFor(addr, s.user.email, ctx.now());
      if (blocked > 0) throw throttled(blocked);
      const creds = await ctx.store.getUserCredentials(s.user.id);
      if (!creds || !(await verifyPassword(current, creds.passwordHash))) {
        ctx.limiter.recordFailure(addr, s.user.email, ctx.now());
        throw new ConsoleError(400, 'the current password is not right');
      }
      await setUserPassword(ctx.services(request, s), s.user.email, next);
      return startSession(ctx, request, reply, s.user, s.org?.tenant.id);
    }),
  );

  /** The user an enrolment call is for: from a ticket (before sign-in) or the session. */
  async function enrolmentUser(request: FastifyRequest): Promise<{ user: User; viaTicket: boolean }> {
    const ticket = str(body(request), 'ticket', { optional: true });
    if (ticket !== undefined) return { user: await userFromTicket(ctx, ticket), viaTicket: true };
    const s = await ctx.session(request);
    if (!s) throw new ConsoleError(401, 'not signed in (or the session expired)');
    if (s.user.mfaEnabled) {
      throw new ConsoleError(409, 'two-factor authentication is already on for this account');
    }
    return { user: s.user, viaTicket: false };
  }

  app.post(
    '/api/console/mfa/enrol',
    handler(async (request) => {
      const { user } = await enrolmentUser(request);
      const by = {
        ...ctx.services(request),
        by: { actor: `user:${user.id}`, sourceAddr: clientAddr(request) },
      };
      const { otpauthUri } = await enrolMfa(by, user.email);
      const secret = new URL(otpauthUri).searchParams.get('secret') ?? '';
      const qrDataUrl = await QRCode.toDataURL(otpauthUri, {
        errorCorrectionLevel: 'M',
        margin: 1,
        width: 220,
      });
      return { otpauthUri, secret, qrDataUrl };
    }),
  );

  app.post(
    '/api/console/mfa/confirm',
    handler(async (request, reply) => {
      const { user, viaTicket } = await enrolmentUser(request);
      const code = str(body(request), 'code');
      const addr = clientAddr(request);
      const blocked = ctx.limiter.blockedFor(addr, user.email, ctx.now());
      if (blocked > 0) throw throttled(blocked);
      const by = { ...ctx.services(request), by: { actor: `user:${user.id}`, sourceAddr: addr } };
      let confirmed;
      try {
        confirmed = await confirmMfa(by, user.email, code);
      } catch (err) {
        ctx.limiter.recordFailure(addr, user.email, ctx.now());
        throw err;
      }
      const me = viaTicket ? await startSession(ctx, request, reply, confirmed.user) : undefined;
      return { recoveryCodes: confirmed.recoveryCodes, ...(me ? { me } : {}) };
    }),
  );
}
