import type { FastifyRequest } from 'fastify';
import { asIfValid, layerOff } from '../isolation/faults.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits, type TenantLimits } from '../tenancy/limits.ts';
import type { ControlPlaneStore, CredentialAuthRecord, CredentialKind, Tenant } from '../tenancy/store.ts';
import { RejectionAuditor, UsageRecorder, type RejectionAuditOptions } from './background-writes.ts';
import { isWellFormedClientId, type SecretHasher } from './credentials.ts';
import { extractCredential } from './extract.ts';
import { FailureLimiter } from './failure-limiter.ts';
import type { AdminPrincipal, PushPrincipal, ReadPrincipal } from './principal.ts';
import { CredentialError, type RequestAuthenticator } from './request-auth.ts';
import { sessionIdHash } from './sessions.ts';

export interface AuthenticatorOptions {
  /** Hashes presented secrets; must use the same pepper as the one that issued them. */
  hasher: SecretHasher;
  /** Platform default limits (config `limits`), under the tenant's overrides. */
  defaultLimits?: TenantLimits;
  /** Failures per source address before 429 (config `auth.failure_limit`, default 20)… */
  failureLimit?: number;
  /** …within this window (config `auth.failure_window`, default 60 s). */
  failureWindowMs?: number;
  /** How often the change counter is polled at most (default 250 ms). */
  changePollIntervalMs?: number;
  /** How often last-used times are written (default 5 s). */
  usageFlushIntervalMs?: number;
  /** Verified credentials kept in memory (default 10 000). */
  cacheMaxEntries?: number;
  /** Retry-After for 503 when the store cannot answer (default 2 s). */
  unavailableRetryAfterSeconds?: number;
  rejectionAudit?: RejectionAuditOptions;
  /** Background failures (usage writes, rejection audit, store errors behind a 503). */
  onError?: (err: unknown, context: string) => void;
  now?: () => number;
}

/** RequestAuthenticator plus what the admin API and the server lifecycle need. */
export interface IrinAuthenticator extends RequestAuthenticator {
  authenticateAdmin(request: FastifyRequest): Promise<AdminPrincipal>;
  /** Writes pending last-used times now. */
  flush(): Promise<void>;
  /** Stops the background timer and flushes. The store is not closed (it is the caller's). */
  close(): Promise<void>;
  /** Promise of the latest rejection audit write, for tests. */
  readonly lastRejectionWrite: Promise<void>;
}

type RouteKind = 'push' | 'read' | 'admin';
type AnyPrincipal = PushPrincipal | ReadPrincipal | AdminPrincipal;

/** What a credential or session resolved to, cached until the change counter moves. */
interface Resolved {
  readonly kind: CredentialKind | 'session';
  readonly tenantId: number | null;
  readonly serverId: number | null;
  readonly secretHash: Buffer;
  readonly previousSecretHash: Buffer | null;
  readonly previousValidUntilMs: number | null;
  readonly expiresAtMs: number | null;
  /** Set when the secret is right but the credential may not be used (revoked, suspended…). */
  readonly refusal?: string;
  readonly principal?: AnyPrincipal;
}

const KIND_NOUN: Record<CredentialKind | 'session', string> = {
  push: 'a push token',
  read: 'a read API key',
  admin: 'an admin key',
  session: 'a console session',
};

/**
 * Request authentication (isolation layer 1). For each request:
 * 1. extract one credential (ambiguous or malformed → 401);
 * 2. poll the control plane's change counter if the last poll is older than ~250 ms, dropping the
 *    cache when it moved — so a revocation, expiry change or suspension made by any process (the
 *    CLI on the same database file) applies within well under a second, without a restart;
 * 3. verify the secret (HMAC under the pepper, compared with timingSafeEqual) against the cached or
 *    stored hash, and the previous hash while a rotation's grace period lasts;
 * 4. check revocation, expiry (on every request, cached or not), tenant status, and the kind:
 *    a push token on a read route or a read key on a push route gets 403.
 * Unknown ids and wrong secrets both answer "invalid credentials" (401) and count toward the
 * per-address failure limit (429 once reached, for anything not already verified in the cache).
 * Any store failure answers 503 with Retry-After — never 401, which would make agents drop data.
 * Every rejection is audited, rate-limited.
 */
export function createRequestAuthenticator(
  store: ControlPlaneStore,
  options: AuthenticatorOptions,
): IrinAuthenticator {
  const hasher = options.hasher;
  const now = options.now ?? Date.now;
  const defaults = options.defaultLimits ?? BUILTIN_DEFAULT_LIMITS;
  const pollEveryMs = options.changePollIntervalMs ?? 250;
  const cacheMax = options.cacheMaxEntries ?? 10_000;
  const retryAfter = options.unavailableRetryAfterSeconds ?? 2;
  const onError = options.onError ?? (() => {});
  const limiter = new FailureLimiter({
    limit: options.failureLimit ?? 20,
    windowMs: options.failureWindowMs ?? 60_000,
  });
  const usage = new UsageRecorder(store, options.usageFlushIntervalMs ?? 5000, (e) =>
    onError(e, 'recording credential use'),
  );
  const auditor = new RejectionAuditor(
    store,
    (e) => onError(e, 'auditing a rejected credential'),
    options.rejectionAudit,
  );

  /** Keyed by client id, or `session:<hash hex>`. */
  const cache = new Map<string, Resolved>();
  let seenSeq: number | undefined;
  let polledAt = -Infinity;
  let polling: Promise<void> | undefined;
  let lastRejectionWrite: Promise<void> = Promise.resolve();

  function unavailable(err: unknown): CredentialError {
    onError(err, 'credential store unavailable');
    return new CredentialError(503, 'credential store unavailable; retry later', retryAfter);
  }

  async function refreshIfStale(): Promise<void> {
    if (now() - polledAt < pollEveryMs) return;
    polling ??= (async () => {
      try {
        const seq = await store.getChangeSeq('credentials');
        if (seq !== seenSeq) cache.clear();
        seenSeq = seq;
        polledAt = now();
      } finally {
        polling = undefined;
      }
    })();
    try {
      await polling;
    } catch (err) {
      throw unavailable(err);
    }
  }

  function remember(key: string, resolved: Resolved): void {
    if (cache.size >= cacheMax) cache.delete(cache.keys().next().value!);
    cache.set(key, resolved);
  }

  function tenantRefusal(tenant: Tenant | null): string | undefined {
    if (!tenant || tenant.status === 'decommissioned') return 'tenant decommissioned';
    if (tenant.status === 'suspended') return 'tenant suspended';
    return undefined;
  }

  function resolveCredential(rec: CredentialAuthRecord): Resolved {
    if (layerOff('credentials')) rec = asIfValid(rec); // test-only fault injection (docs/security.md)
    const base = {
      kind: rec.kind,
      tenantId: rec.tenantId,
      serverId: rec.serverId,
      secretHash: rec.secretHash,
      previousSecretHash: rec.previousSecretHash,
      previousValidUntilMs: rec.previousValidUntil === null ? null : Date.parse(rec.previousValidUntil),
      expiresAtMs: rec.expiresAt === null ? null : Date.parse(rec.expiresAt),
    };
    const refusal =
      rec.revokedAt !== null
        ? `${rec.kind === 'push' ? 'token' : 'key'} revoked`
        : rec.kind === 'admin'
          ? undefined
          : (tenantRefusal(rec.tenant) ?? (rec.server?.removed ? 'server removed' : undefined));
    if (refusal) return { ...base, refusal };
    if (rec.kind === 'admin') {
      return {
        ...base,
        principal: { kind: 'admin', clientId: rec.clientId, actor: `admin-key:${rec.clientId}` },
      };
    }
    const tenant = rec.tenant!;
    const limits = effectiveLimits(defaults, tenant.limitOverrides);
    if (rec.kind === 'read') {
      return {
        ...base,
        principal: {
          kind: 'read',
          tenantId: tenant.id,
          tenantSlug: tenant.slug,
          actor: `apikey:${rec.clientId}`,
          limits,
        },
      };
    }
    const principal: PushPrincipal =
      rec.server && !rec.server.removed
        ? {
            kind: 'push',
            tenantId: tenant.id,
            tenantSlug: tenant.slug,
            tokenId: rec.clientId,
            serverId: rec.server.id,
            instance: rec.server.name,
            limits,
          }
        : { kind: 'push', tenantId: tenant.id, tenantSlug: tenant.slug, tokenId: rec.clientId, limits };
    return { ...base, principal };
  }

  /** True when the presented hash is the current secret, or the previous one within its grace period. */
  function secretMatches(r: Resolved, presented: Buffer, at: number): boolean {
    if (layerOff('credentials')) return true; // test-only fault injection (docs/security.md)
    if (hasher.matches(presented, r.secretHash)) return true;
    return (
      r.previousValidUntilMs !== null &&
      at < r.previousValidUntilMs &&
      hasher.matches(presented, r.previousSecretHash)
    );
  }

  interface Rejection {
    status: 401 | 403 | 429;
    message: string;
    /** For the audit log: what really happened (never shown to the client when it would reveal an id). */
    reason: string;
    clientId?: string;
    tenantId?: number | null;
    serverId?: number | null;
    countsAsFailure: boolean;
    retryAfterSeconds?: number;
  }

  function reject(route: RouteKind, addr: string, at: number, r: Rejection): CredentialError {
    if (r.countsAsFailure) limiter.recordFailure(addr, at);
    const clientId = r.clientId !== undefined && isWellFormedClientId(r.clientId) ? r.clientId : undefined;
    lastRejectionWrite = auditor.reject(
      at,
      {
        actor: clientId ? `credential:${clientId}` : 'anonymous',
        action: 'auth.reject',
        tenantId: r.tenantId ?? null,
        target: clientId ?? null,
        sourceAddr: addr,
        details: { route, status: r.status, reason: r.reason },
      },
      route === 'push' && r.tenantId != null
        ? {
            tenantId: r.tenantId,
            serverId: r.serverId ?? null,
            clientId: clientId ?? null,
            status: r.status,
            reason: r.reason,
            sourceAddr: addr,
          }
        : undefined,
    );
    return new CredentialError(r.status, r.message, r.retryAfterSeconds);
  }

  const INVALID = 'invalid credentials';

  /** Applies the per-request checks to a resolved credential: expiry, refusal, route kind. */
  function accept(route: RouteKind, addr: string, at: number, clientId: string, r: Resolved): AnyPrincipal {
    const about = { clientId, tenantId: r.tenantId, serverId: r.serverId };
    if (r.expiresAtMs !== null && at >= r.expiresAtMs) {
      const what = r.kind === 'session' ? 'session expired' : 'credential expired';
      throw reject(route, addr, at, {
        status: 401,
        message: what,
        reason: what,
        countsAsFailure: false,
        ...about,
      });
    }
    if (r.refusal !== undefined) {
      throw reject(route, addr, at, {
        status: 401,
        message: r.refusal,
        reason: r.refusal,
        countsAsFailure: false,
        ...about,
      });
    }
    const fits = route === 'read' ? r.kind === 'read' || r.kind === 'session' : r.kind === route;
    if (!fits) {
      const message = `${KIND_NOUN[r.kind]} cannot be used for ${route === 'push' ? 'pushing' : route === 'read' ? 'reading' : 'the admin API'}`;
      throw reject(route, addr, at, {
        status: 403,
        message,
        reason: message,
        countsAsFailure: false,
        ...about,
      });
    }
    if (r.kind !== 'session') usage.record(clientId, at, addr);
    return r.principal!;
  }

  async function authenticate(route: RouteKind, request: FastifyRequest): Promise<AnyPrincipal> {
    const addr = request.ip;
    const at = now();
    const found = extractCredential(request, route === 'read');
    if (found.kind === 'none') {
      throw reject(route, addr, at, {
        status: 401,
        message: 'missing credentials',
        reason: 'missing credentials',
        countsAsFailure: true,
      });
    }
    if (found.kind === 'invalid') {
      throw reject(route, addr, at, {
        status: 401,
        message: found.reason,
        reason: found.reason,
        countsAsFailure: true,
        ...(found.clientId !== undefined ? { clientId: found.clientId } : {}),
      });
    }
    await refreshIfStale();

    const isSession = found.kind === 'session';
    const presented = isSession
      ? sessionIdHash(hasher, found.token)
      : hasher.hashCredentialSecret(found.clientId, found.secret);
    const key = isSession ? `session:${presented.toString('hex')}` : found.clientId;
    const clientId = isSession ? 'session' : found.clientId;

    const cached = cache.get(key);
    if (cached && secretMatches(cached, presented, at)) return accept(route, addr, at, clientId, cached);

    const blockedFor = limiter.blockedFor(addr, at);
    if (blockedFor > 0) {
      throw reject(route, addr, at, {
        status: 429,
        message: 'too many failed authentication attempts from this address; retry later',
        reason: 'failure limit reached',
        countsAsFailure: false,
        retryAfterSeconds: blockedFor,
        ...(isSession ? {} : { clientId }),
      });
    }

    const resolved = isSession ? await resolveSession(presented, at) : await resolveClient(found.clientId);
    if (!resolved) {
      throw reject(route, addr, at, {
        status: 401,
        message: isSession ? 'session expired or invalid' : INVALID,
        reason: isSession ? 'unknown session' : 'unknown client id',
        countsAsFailure: true,
        ...(isSession ? {} : { clientId }),
      });
    }
    if (!secretMatches(resolved, presented, at)) {
      throw reject(route, addr, at, {
        status: 401,
        message: INVALID,
        reason: 'wrong secret',
        countsAsFailure: true,
        clientId,
        tenantId: resolved.tenantId,
        serverId: resolved.serverId,
      });
    }
    remember(key, resolved);
    return accept(route, addr, at, clientId, resolved);
  }

  async function resolveClient(clientId: string): Promise<Resolved | undefined> {
    if (!isWellFormedClientId(clientId)) return undefined;
    let rec: CredentialAuthRecord | undefined;
    try {
      rec = await store.findCredentialForAuth(clientId);
    } catch (err) {
      throw unavailable(err);
    }
    return rec && resolveCredential(rec);
  }

  async function resolveSession(idHash: Buffer, at: number): Promise<Resolved | undefined> {
    try {
      const session = await store.getSession(idHash);
      if (!session || Date.parse(session.expiresAt) <= at) return undefined;
      const base = {
        kind: 'session' as const,
        tenantId: session.tenantId,
        serverId: null,
        secretHash: idHash,
        previousSecretHash: null,
        previousValidUntilMs: null,
        expiresAtMs: Date.parse(session.expiresAt),
      };
      const [user, membership, tenant] = await Promise.all([
        store.getUser(session.userId),
        session.tenantId === null ? undefined : store.getMembership(session.tenantId, session.userId),
        session.tenantId === null ? undefined : store.getTenant(session.tenantId),
      ]);
      if (!user) return undefined;
      if (user.platformAdmin && !user.mfaEnabled)
        return { ...base, refusal: 'platform admins must enrol in MFA' };
      if (!membership || !tenant) return { ...base, refusal: 'no organisation selected for this session' };
      const refusal = tenantRefusal(tenant);
      if (refusal) return { ...base, refusal };
      return {
        ...base,
        principal: {
          kind: 'read',
          tenantId: tenant.id,
          tenantSlug: tenant.slug,
          actor: `user:${user.id}`,
          limits: effectiveLimits(defaults, tenant.limitOverrides),
        },
      };
    } catch (err) {
      throw unavailable(err);
    }
  }

  return {
    authenticatePush: (request) => authenticate('push', request) as Promise<PushPrincipal>,
    authenticateRead: (request) => authenticate('read', request) as Promise<ReadPrincipal>,
    authenticateAdmin: (request) => authenticate('admin', request) as Promise<AdminPrincipal>,
    flush: () => usage.flush(),
    close: () => usage.close(),
    get lastRejectionWrite() {
      return lastRejectionWrite;
    },
  };
}
