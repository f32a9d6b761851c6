import type { FastifyInstance } from 'fastify';
import type { SecretHasher } from '../auth/credentials.ts';
import { DEFAULT_SESSION_TTL_MS } from '../auth/sessions.ts';
import type { TenantLimits } from '../tenancy/limits.ts';
import type { ControlPlaneStore } from '../tenancy/store.ts';
import { assetRoutes } from './assets.ts';
import { authRoutes } from './auth-routes.ts';
import { createContext } from './context.ts';
import { sendError } from './http.ts';
import { orgRoutes } from './org-routes.ts';
import { platformRoutes } from './platform-routes.ts';
import { applySecurityHeaders, checkCsrfToken, checkRequestOrigin, isStateChanging } from './security.ts';
import { SignInLimiter, type SignInLimits } from './sign-in-limiter.ts';

/**
 * The web console, server side: the single-page app under /console/ and its JSON API under
 * /api/console/. The console reads metrics, logs and endpoint status through the public read APIs
 * (/prometheus, /loki, /api/v1/endpoints) with its session cookie, which the request
 * authenticator accepts as a read credential of the session's current org.
 *
 * Register in its own encapsulated scope (its hooks then apply to its routes only):
 *   await app.register(async (scope) => consoleRoutes(scope, deps));
 */
export interface ConsoleDeps {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
  /** TLS is on (directly or at a trusted proxy): the cookie gets `Secure`, responses get HSTS. */
  readonly secure: boolean;
  /** The built console (`vite build --config console/vite.config.ts` → console/dist). */
  readonly staticDir?: string;
  /** Platform default limits, to show effective limits on the platform pages. */
  readonly defaultLimits?: TenantLimits;
  /** Public base URL (e.g. https://irin.example.com) used in copy-paste settings; default: the request's origin. */
  readonly publicUrl?: string;
  /** Further origins accepted on state-changing requests (besides the request's own). */
  readonly allowedOrigins?: readonly string[];
  /** The tenant label the edge enforces (config `tenancy.tenant_label`, default `tenant`), for agent configs. */
  readonly tenantLabel?: string;
  /** Session lifetime (default 12 h, absolute). */
  readonly sessionTtlMs?: number;
  /** A server whose token was last used longer ago than this is "stale" (default 120 s). */
  readonly serverStaleAfterMs?: number;
  readonly signInLimits?: SignInLimits;
  readonly now?: () => number;
}

export async function consoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const ctx = createContext({
    store: deps.store,
    hasher: deps.hasher,
    secure: deps.secure,
    sessionTtlMs: deps.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    serverStaleAfterMs: deps.serverStaleAfterMs ?? 120_000,
    limiter: new SignInLimiter(deps.signInLimits),
    defaultLimits: deps.defaultLimits,
    publicUrl: deps.publicUrl,
    tenantLabel: deps.tenantLabel ?? 'tenant',
    now: deps.now ?? Date.now,
  });
  const allowedOrigins = deps.allowedOrigins ?? (deps.publicUrl ? [new URL(deps.publicUrl).origin] : []);

  app.addHook('onSend', async (_request, reply, payload) => {
    applySecurityHeaders(reply, deps.secure);
    return payload;
  });

  app.addHook('preHandler', async (request, reply) => {
    if (!isStateChanging(request.method)) return;
    try {
      checkRequestOrigin(request, allowedOrigins);
      const s = await ctx.session(request);
      if (s) checkCsrfToken(request, s.csrfToken);
    } catch (err) {
      reply.header('cache-control', 'no-store');
      return sendError(request, reply, err);
    }
  });

  await authRoutes(app, ctx);
  await orgRoutes(app, ctx);
  await platformRoutes(app, ctx);
  await assetRoutes(app, deps.staticDir);
}

export type { SignInLimits } from './sign-in-limiter.ts';
