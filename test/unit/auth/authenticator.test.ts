import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequestAuthenticator, type AuthenticatorOptions } from '../../../src/auth/authenticator.ts';
import { CredentialError } from '../../../src/auth/request-auth.ts';
import { createSession } from '../../../src/auth/sessions.ts';
import { createTenant, setTenantStatus, updateTenant } from '../../../src/tenancy/services/tenants.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import {
  createCredential,
  revokeCredential,
  rotateCredential,
} from '../../../src/tenancy/services/credentials.ts';
import { addUserToOrg, createUser } from '../../../src/tenancy/services/users.ts';
import { BUILTIN_DEFAULT_LIMITS } from '../../../src/tenancy/limits.ts';
import { openTestPlane } from '../tenancy/fixtures.ts';
import { basic, bearer, cfHeaders, clock, fakeRequest } from './helpers.ts';

async function setup(options: Partial<AuthenticatorOptions> = {}) {
  const c = clock();
  const p = await openTestPlane({ now: c.now });
  await createTenant(p.ctx, { slug: 'acme', limits: { maxSeries: 1234 } });
  await createTenant(p.ctx, { slug: 'beta' });
  const server = await addServer(p.ctx, 'acme', { name: 'acme-svr01' });
  const wide = await createCredential(p.ctx, 'push', 'acme', { name: 'wide' });
  const read = await createCredential(p.ctx, 'read', 'acme', { name: 'grafana' });
  const admin = await createCredential(p.ctx, 'admin', undefined, { name: 'ops' });
  const auth = createRequestAuthenticator(p.store, { hasher: p.hasher, now: c.now, ...options });
  return {
    p,
    c,
    auth,
    server,
    wide,
    read,
    admin,
    async done() {
      await auth.close();
      await p.cleanup();
    },
  };
}

async function rejects(promise: Promise<unknown>, status: number, message?: RegExp) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof CredentialError, `expected CredentialError, got ${String(e)}`);
    assert.equal(e.status, status, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

test('push tokens authenticate in every form; server-bound ones pin the instance', async () => {
  const s = await setup();
  try {
    const { credential, secret } = s.server.token;
    for (const headers of [
      cfHeaders(credential.clientId, secret),
      bearer(`${credential.clientId}.${secret}`),
      basic(credential.clientId, secret),
    ]) {
      const pr = await s.auth.authenticatePush(fakeRequest('10.0.0.1', headers));
      assert.equal(pr.kind, 'push');
      assert.equal(pr.tenantSlug, 'acme');
      assert.equal(pr.instance, 'acme-svr01');
      assert.equal(pr.serverId, s.server.server.id);
      assert.equal(pr.tokenId, credential.clientId);
      assert.equal(pr.limits.maxSeries, 1234);
      assert.equal(pr.limits.ingestionRate, BUILTIN_DEFAULT_LIMITS.ingestionRate);
    }
    const wide = await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(s.wide.token)));
    assert.equal(wide.instance, undefined);
    assert.equal(wide.serverId, undefined);
  } finally {
    await s.done();
  }
});

test('unknown ids and wrong secrets get the same 401', async () => {
  const s = await setup();
  try {
    await rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(`irin_push_aaaaaaaaaaaaaaaa.${s.wide.secret}`))),
      401,
      /^invalid credentials$/,
    );
    await rejects(
      s.auth.authenticatePush(
        fakeRequest('10.0.0.1', bearer(`${s.wide.credential.clientId}.${'x'.repeat(43)}`)),
      ),
      401,
      /^invalid credentials$/,
    );
    await rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(`garbage.${s.wide.secret}`))),
      401,
      /^invalid credentials$/,
    );
    await rejects(s.auth.authenticatePush(fakeRequest('10.0.0.1')), 401, /missing/);
  } finally {
    await s.done();
  }
});

test('a push token cannot read, a read key cannot push, only admin keys reach the admin API', async () => {
  const s = await setup();
  try {
    await rejects(
      s.auth.authenticateRead(fakeRequest('10.0.0.1', bearer(s.wide.token))),
      403,
      /push token cannot be used for reading/,
    );
    await rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(s.read.token))),
      403,
      /read API key cannot be used for pushing/,
    );
    await rejects(s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(s.admin.token))), 403);
    await rejects(s.auth.authenticateAdmin(fakeRequest('10.0.0.1', bearer(s.read.token))), 403);
    const rp = await s.auth.authenticateRead(
      fakeRequest('10.0.0.1', basic(s.read.credential.clientId, s.read.secret)),
    );
    assert.deepEqual(
      [rp.kind, rp.tenantSlug, rp.actor],
      ['read', 'acme', `apikey:${s.read.credential.clientId}`],
    );
    const ap = await s.auth.authenticateAdmin(fakeRequest('10.0.0.1', bearer(s.admin.token)));
    assert.equal(ap.actor, `admin-key:${s.admin.credential.clientId}`);
    // A wrong secret for a read key on the push route is 401, not 403: the key was not proven.
    await rejects(
      s.auth.authenticatePush(
        fakeRequest('10.0.0.1', bearer(`${s.read.credential.clientId}.${'y'.repeat(43)}`)),
      ),
      401,
    );
  } finally {
    await s.done();
  }
});

test('revocation and suspension apply after the next poll, even for cached credentials', async () => {
  const s = await setup();
  try {
    const req = () => fakeRequest('10.0.0.1', bearer(s.wide.token));
    await s.auth.authenticatePush(req());
    await revokeCredential(s.p.ctx, 'push', 'acme', s.wide.credential.clientId);
    s.c.advance(300);
    await rejects(s.auth.authenticatePush(req()), 401, /revoked/);

    const tok = s.server.token;
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token)));
    await setTenantStatus(s.p.ctx, 'acme', 'suspended');
    s.c.advance(300);
    await rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token))),
      401,
      /tenant suspended/,
    );
    await setTenantStatus(s.p.ctx, 'acme', 'active');
    s.c.advance(300);
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token)));
    // Limit changes reach the principal the same way.
    await updateTenant(s.p.ctx, 'acme', { setLimits: { maxSeries: 99 } });
    s.c.advance(300);
    assert.equal(
      (await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token)))).limits.maxSeries,
      99,
    );
  } finally {
    await s.done();
  }
});

test('expiry is checked on every request, cached or not', async () => {
  const s = await setup();
  try {
    const tok = await createCredential(s.p.ctx, 'push', 'acme', { expiresIn: '1h' });
    const req = () => fakeRequest('10.0.0.1', bearer(tok.token));
    await s.auth.authenticatePush(req());
    s.c.advance(3_600_000 - 1);
    await s.auth.authenticatePush(req());
    s.c.advance(1);
    await rejects(s.auth.authenticatePush(req()), 401, /expired/);
  } finally {
    await s.done();
  }
});

test('after rotation the old secret works until the grace deadline only', async () => {
  const s = await setup();
  try {
    const old = s.wide;
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(old.token)));
    const fresh = await rotateCredential(s.p.ctx, 'push', 'acme', old.credential.clientId, { grace: '10m' });
    s.c.advance(300);
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(old.token)));
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(fresh.token)));
    s.c.advance(600_000);
    await rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(old.token))),
      401,
      /^invalid credentials$/,
    );
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(fresh.token)));
  } finally {
    await s.done();
  }
});

test('repeated failures from one address get 429; verified credentials and other addresses are unaffected', async () => {
  const s = await setup({ failureLimit: 5, failureWindowMs: 60_000 });
  try {
    await s.auth.authenticatePush(fakeRequest('10.0.0.9', bearer(s.wide.token))); // now cached
    const bad = () => fakeRequest('10.0.0.9', bearer(`${s.wide.credential.clientId}.${'z'.repeat(43)}`));
    for (let i = 0; i < 5; i++) await rejects(s.auth.authenticatePush(bad()), 401);
    await assert.rejects(
      s.auth.authenticatePush(bad()),
      (e: CredentialError) => e.status === 429 && e.retryAfterSeconds === 60,
    );
    await rejects(s.auth.authenticatePush(fakeRequest('10.0.0.9', bearer(s.server.token.token))), 429);
    await s.auth.authenticatePush(fakeRequest('10.0.0.9', bearer(s.wide.token)));
    await s.auth.authenticatePush(fakeRequest('10.0.0.10', bearer(s.server.token.token)));
    s.c.advance(60_001);
    await s.auth.authenticatePush(fakeRequest('10.0.0.9', bearer(s.server.token.token)));
  } finally {
    await s.done();
  }
});

test('secrets are compared with crypto.timingSafeEqual on equal-length digests', async () => {
  const s = await setup();
  const spy = mock.method(crypto, 'timingSafeEqual');
  try {
    await s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(s.wide.token)));
    await rejects(
      s.auth.authenticatePush(
        fakeRequest('10.0.0.1', bearer(`${s.wide.credential.clientId}.${'q'.repeat(43)}`)),
      ),
      401,
    );
    assert.ok(spy.mock.callCount() >= 2);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Buffer, Buffer];
      assert.equal(a.length, 32);
      assert.equal(b.length, 32);
    }
  } finally {
    spy.mock.restore();
    await s.done();
  }
});

test('rejections are audited without secrets, rate-limited, and shown for the server', async () => {
  const s = await setup();
  try {
    const tenant = (await s.p.store.getTenantBySlug('acme'))!;
    const wrong = 'w'.repeat(43);
    await rejects(
      s.auth.authenticatePush(
        fakeRequest('10.1.1.1', bearer(`${s.server.token.credential.clientId}.${wrong}`)),
      ),
      401,
    );
    await s.auth.lastRejectionWrite;
    // A client that pastes the whole token as the user name must not get it logged.
    await rejects(s.auth.authenticatePush(fakeRequest('10.1.1.2', basic(s.wide.token, 'x'))), 401);
    await s.auth.lastRejectionWrite;
    for (let i = 0; i < 15; i++) {
      await rejects(
        s.auth.authenticatePush(fakeRequest('10.1.1.3', bearer(`irin_push_aaaaaaaaaaaaaaaa.${wrong}`))),
        401,
      );
    }
    await s.auth.lastRejectionWrite;
    const audit = await s.p.store.listPlatformAudit({ action: 'auth.reject' });
    assert.equal(audit.length, 3);
    const text = JSON.stringify(audit);
    for (const secret of [wrong, s.wide.secret, s.server.token.secret]) assert.ok(!text.includes(secret));
    const first = audit.find((e) => e.sourceAddr === '10.1.1.1')!;
    assert.equal(first.tenantId, tenant.id);
    assert.equal(first.target, s.server.token.credential.clientId);
    assert.equal(first.details.reason, 'wrong secret');
    assert.equal(audit.find((e) => e.sourceAddr === '10.1.1.2')?.actor, 'anonymous');
    const rejections = await s.p.store.listPushRejections(tenant.id, { serverId: s.server.server.id });
    assert.equal(rejections[0]?.reason, 'wrong secret');
  } finally {
    await s.done();
  }
});

test('an unusable store answers 503 with Retry-After, never 401', async () => {
  const s = await setup();
  try {
    await s.p.store.close();
    await assert.rejects(
      s.auth.authenticatePush(fakeRequest('10.0.0.1', bearer(s.wide.token))),
      (e: CredentialError) => {
        return e.status === 503 && (e.retryAfterSeconds ?? 0) > 0;
      },
    );
  } finally {
    await s.done();
  }
});

test('last-used time and address are written in batches', async () => {
  const s = await setup();
  try {
    await s.auth.authenticatePush(fakeRequest('192.0.2.7', bearer(s.server.token.token)));
    assert.equal(
      (await s.p.store.findCredentialForAuth(s.server.token.credential.clientId))?.lastUsedAt,
      null,
    );
    await s.auth.flush();
    const rec = await s.p.store.findCredentialForAuth(s.server.token.credential.clientId);
    assert.equal(rec?.lastUsedAddr, '192.0.2.7');
    assert.equal(rec?.server?.lastSeenAddr, '192.0.2.7');
  } finally {
    await s.done();
  }
});

test('console sessions give read principals for their org until they end', async () => {
  const s = await setup();
  try {
    const { user } = await createUser(s.p.ctx, {
      email: 'viewer@acme.example',
      password: 'long enough password',
    });
    await addUserToOrg(s.p.ctx, user.email, 'acme', 'viewer');
    const acme = (await s.p.store.getTenantBySlug('acme'))!;
    const beta = (await s.p.store.getTenantBySlug('beta'))!;
    const { token } = await createSession(s.p, {
      userId: user.id,
      tenantId: acme.id,
      ttlMs: 60_000,
      now: s.c.now(),
    });
    const cookie = (): [string, string][] => [['Cookie', `irin_session=${token}`]];
    const rp = await s.auth.authenticateRead(fakeRequest('10.0.0.1', cookie()));
    assert.deepEqual([rp.tenantId, rp.actor], [acme.id, `user:${user.id}`]);
    await rejects(s.auth.authenticatePush(fakeRequest('10.0.0.1', cookie())), 401, /missing/);
    await assert.rejects(createSession(s.p, { userId: user.id, tenantId: beta.id }), /not a member/);
    s.c.advance(60_000);
    await rejects(s.auth.authenticateRead(fakeRequest('10.0.0.1', cookie())), 401, /session expired/);
    await rejects(s.auth.authenticateRead(fakeRequest('10.0.0.1', [['Cookie', 'irin_session=forged']])), 401);
  } finally {
    await s.done();
  }
});
