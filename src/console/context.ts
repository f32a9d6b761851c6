import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SecretHasher } from '../auth/credentials.ts';
import type { TenantLimits } from '../tenancy/limits.ts';
import type { ServiceContext } from '../tenancy/services/context.ts';
import type { ControlPlaneStore } from '../tenancy/store.ts';
import { clientAddr, sendError } from './http.ts';
import { ownOrigin } from './security.ts';
import { loadSession, requireSignedIn, type ConsoleSession } from './session.ts';
import type { SignInLimiter } from './sign-in-limiter.ts';

/** What every console route module gets: the resolved dependencies and small request helpers. */
export interface ConsoleContext {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
  readonly secure: boolean;
  readonly sessionTtlMs: number;
  readonly serverStaleAfterMs: number;
  readonly limiter: SignInLimiter;
  readonly defaultLimits: TenantLimits | undefined;
  readonly publicUrl: string | undefined;
  /** The label the edge enforces as the tenant (config `tenancy.tenant_label`). */
  readonly tenantLabel: string;
  now(): number;
  /** The request's session, resolved once per request. */
  session(request: FastifyRequest): Promise<ConsoleSession | undefined>;
  /** Who acts, for the audit log, through the tenancy services. */
  services(request: FastifyRequest, s?: ConsoleSession): ServiceContext;
  /** Base URL shown in copy-paste settings. */
  baseUrl(request: FastifyRequest): string;
}

export function createContext(
  init: Omit<ConsoleContext, 'session' | 'services' | 'baseUrl'>,
): ConsoleContext {
  const sessions = new WeakMap<FastifyRequest, Promise<ConsoleSession | undefined>>();
  const ctx: ConsoleContext = {
    ...init,
    session(request) {
      let found = sessions.get(request);
      if (!found) {
        found = loadSession(init, request, init.now());
        sessions.set(request, found);
      }
      return found;
    },
    services(request, s) {
      return {
        store: init.store,
        hasher: init.hasher,
        by: { actor: s ? `user:${s.user.id}` : 'anonymous', sourceAddr: clientAddr(request) },
        ...(init.defaultLimits ? { defaultLimits: init.defaultLimits } : {}),
        now: init.now,
      };
    },
    baseUrl(request) {
      return (init.publicUrl ?? ownOrigin(request)).replace(/\/+$/, '');
    },
  };
  return ctx;
}

/** A JSON route handler: errors become `{ error }` answers, responses are never cached. */
export function handler(
  fn: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>,
): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      const result = await fn(request, reply);
      if (reply.sent) return reply;
      return reply.send(result ?? { ok: true });
    } catch (err) {
      return sendError(request, reply, err);
    }
  };
}

/** As handler, for routes that need a signed-in user. */
export function authed(
  ctx: ConsoleContext,
  fn: (request: FastifyRequest, s: ConsoleSession, reply: FastifyReply) => Promise<unknown>,
) {
  return handler(async (request, reply) => fn(request, requireSignedIn(await ctx.session(request)), reply));
}
