/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are checked field by field */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { adminApiRoutes } from '../../../src/api/admin/plugin.ts';
import { createRequestAuthenticator, type IrinAuthenticator } from '../../../src/auth/authenticator.ts';
import { currentTotp } from '../../../src/auth/totp.ts';
import { createCredential } from '../../../src/tenancy/services/credentials.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { openTestPlane, type TestPlane } from '../../unit/tenancy/fixtures.ts';

interface Harness {
  app: FastifyInstance;
  plane: TestPlane;
  auth: IrinAuthenticator;
  adminToken: string;
  adminId: string;
  call(
    method: InjectOptions['method'],
    url: string,
    body?: unknown,
    extra?: Partial<InjectOptions>,
  ): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

async function harness(
  authOptions: { failureLimit?: number } = {},
  logTo?: { write(line: string): void },
): Promise<Harness> {
  const plane = await openTestPlane();
  const auth = createRequestAuthenticator(plane.store, { hasher: plane.hasher, ...authOptions });
  const admin = await createCredential(plane.ctx, 'admin', undefined, { name: 'test' });
  const decommissioned: number[] = [];
  const app = logTo ? Fastify({ logger: { level: 'trace', stream: logTo } }) : Fastify();
  await app.register(adminApiRoutes, {
    store: plane.store,
    hasher: plane.hasher,
    authenticator: auth,
    onTenantDecommissioned: (id) => decommissioned.push(id),
  });
  await app.ready();
  const h: Harness = {
    app,
    plane,
    auth,
    adminToken: admin.token,
    adminId: admin.credential.clientId,
    async call(method, url, body, extra = {}) {
      const res = await app.inject({
        method,
        url: `/api/admin/v1${url}`,
        headers: { authorization: `Bearer ${admin.token}`, ...(extra.headers ?? {}) },
        ...(body !== undefined ? { payload: body as object } : {}),
        ...(extra.remoteAddress ? { remoteAddress: extra.remoteAddress } : {}),
      });
      return {
        status: res.statusCode,
        body: res.body ? JSON.parse(res.body) : undefined,
        headers: res.headers,
      };
    },
    async close() {
      await app.close();
      await auth.close();
      await plane.cleanup();
    },
  };
  return h;
}

test('credential failures: 401 that does not reveal the id, 403 for other kinds, 429 after repeated failures', async () => {
  const h = await harness({ failureLimit: 3 });
  try {
    await createTenant(h.plane.ctx, { slug: 'acme' });
    const push = await createCredential(h.plane.ctx, 'push', 'acme', {});
    const read = await createCredential(h.plane.ctx, 'read', 'acme', {});
    const none = await h.app.inject({
      method: 'GET',
      url: '/api/admin/v1/tenants',
      remoteAddress: '10.9.0.1',
    });
    assert.equal(none.statusCode, 401);
    assert.match(String(none.headers['www-authenticate']), /Bearer/);
    const unknown = await h.call('GET', '/tenants', undefined, {
      headers: { authorization: `Bearer irin_admin_aaaaaaaaaaaaaaaa.${'a'.repeat(43)}` },
      remoteAddress: '10.9.0.2',
    });
    const wrong = await h.call('GET', '/tenants', undefined, {
      headers: { authorization: `Bearer ${h.adminId}.${'a'.repeat(43)}` },
      remoteAddress: '10.9.0.2',
    });
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body, wrong.body);
    assert.deepEqual(wrong.body, { error: 'invalid credentials' });
    const pushed = await h.call('GET', '/tenants', undefined, {
      headers: { authorization: `Bearer ${push.token}` },
    });
    assert.equal(pushed.status, 403);
    assert.equal(
      (await h.call('GET', '/tenants', undefined, { headers: { authorization: `Bearer ${read.token}` } }))
        .status,
      403,
    );
    const third = await h.call('GET', '/tenants', undefined, {
      headers: { authorization: 'Bearer x.y' },
      remoteAddress: '10.9.0.2',
    });
    assert.equal(third.status, 401);
    const limited = await h.call('GET', '/tenants', undefined, {
      headers: { authorization: 'Bearer x.y' },
      remoteAddress: '10.9.0.2',
    });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    // The admin key itself still works (verified, cached) and from other addresses.
    assert.equal((await h.call('GET', '/tenants')).status, 200);
  } finally {
    await h.close();
  }
});

test('tenants: 201, 400 with the rule, 409 duplicate, 404 unknown, suspend/resume/delete', async () => {
  const h = await harness();
  try {
    const c = await h.call('POST', '/tenants', {
      slug: 'acme',
      displayName: 'Acme',
      limits: { maxSeries: 10 },
    });
    assert.equal(c.status, 201);
    assert.deepEqual([c.body.slug, c.body.limitOverrides], ['acme', { maxSeries: 10 }]);
    const bad = await h.call('POST', '/tenants', { slug: 'ACME' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.error, /lowercase letters, digits and dashes/);
    const shape = await h.call('POST', '/tenants', { slug: 7, colour: 'red' });
    assert.equal(shape.status, 400);
    assert.match(shape.body.error, /slug: .*expected string.*unknown field\(s\) colour/);
    assert.equal((await h.call('POST', '/tenants', { slug: 'acme' })).status, 409);
    assert.equal((await h.call('GET', '/tenants/nope')).status, 404);
    assert.equal((await h.call('GET', '/tenants/acme')).body.effectiveLimits.maxSeries, 10);
    assert.equal(
      (await h.call('PATCH', '/tenants/acme', { setLimits: { maxSeries: 20 } })).body.limitOverrides
        .maxSeries,
      20,
    );
    assert.equal((await h.call('POST', '/tenants/acme/suspend')).body.status, 'suspended');
    assert.equal((await h.call('POST', '/tenants/acme/resume')).body.status, 'active');
    const del = await h.call('DELETE', '/tenants/acme');
    assert.equal(del.body.tenant.status, 'decommissioned');
    assert.equal((await h.call('DELETE', '/tenants/acme')).status, 409);
    assert.deepEqual(
      (await h.call('GET', '/tenants?status=decommissioned')).body.map((t: any) => t.slug),
      ['acme'],
    );
    const audit = (await h.call('GET', '/audit?action=tenant.*')).body;
    assert.ok(audit.every((e: any) => e.actor === `admin-key:${h.adminId}` && e.sourceAddr === '127.0.0.1'));
    assert.deepEqual(
      audit.map((e: any) => e.action),
      ['tenant.decommission', 'tenant.resume', 'tenant.suspend', 'tenant.update', 'tenant.create'],
    );
  } finally {
    await h.close();
  }
});

test('servers, tokens and API keys over HTTP: secrets only in the creating response', async () => {
  const h = await harness();
  try {
    await h.call('POST', '/tenants', { slug: 'acme' });
    const srv = await h.call('POST', '/tenants/acme/servers', { name: 'acme-svr01' });
    assert.equal(srv.status, 201);
    assert.match(srv.body.token.token, /^irin_push_[a-z2-7]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.equal((await h.call('POST', '/tenants/acme/servers', { name: 'acme-svr01' })).status, 409);
    assert.equal((await h.call('POST', '/tenants/acme/servers', { name: '../x' })).status, 400);
    const tok = await h.call('POST', '/tenants/acme/tokens', { server: 'acme-svr01', expiresIn: '30d' });
    assert.equal(tok.status, 201);
    const key = await h.call('POST', '/tenants/acme/apikeys', { name: 'grafana' });
    const rot = await h.call('POST', `/tenants/acme/tokens/${tok.body.credential.clientId}/rotate`, {
      grace: '0',
    });
    assert.equal(rot.body.previousValidUntil, null);
    const lists = [
      await h.call('GET', '/tenants/acme/tokens?all=true'),
      await h.call('GET', '/tenants/acme/apikeys'),
      await h.call('GET', '/tenants/acme/servers/acme-svr01'),
      await h.call('GET', '/admin-keys'),
      await h.call('GET', '/tenants/acme/audit'),
    ];
    const text = JSON.stringify(lists.map((l) => l.body));
    for (const s of [srv.body.token.secret, tok.body.secret, key.body.secret, rot.body.secret])
      assert.ok(!text.includes(s));
    assert.equal(lists[0]!.body.length, 2);
    assert.equal(
      (await h.call('POST', `/tenants/acme/tokens/${tok.body.credential.clientId}/revoke`)).body.revokedAt !==
        null,
      true,
    );
    assert.equal(
      (await h.call('DELETE', `/tenants/acme/apikeys/${key.body.credential.clientId}`)).status,
      200,
    );
    assert.equal(
      (await h.call('POST', `/tenants/acme/apikeys/${key.body.credential.clientId}/revoke`)).status,
      409,
    );
    assert.equal(
      (await h.call('POST', `/tenants/acme/tokens/irin_push_aaaaaaaaaaaaaaaa/revoke`)).status,
      404,
    );
    assert.equal((await h.call('DELETE', '/tenants/acme/servers/acme-svr01')).body.revokedTokens, 1);
  } finally {
    await h.close();
  }
});

test('users, memberships, MFA and endpoints over HTTP', async () => {
  const h = await harness();
  try {
    await h.call('POST', '/tenants', { slug: 'acme' });
    const u = await h.call('POST', '/users', { email: 'root@irin.example', platformAdmin: true });
    assert.equal(u.status, 201);
    assert.equal(typeof u.body.generatedPassword, 'string');
    assert.equal((await h.call('POST', '/users', { email: 'root@irin.example' })).status, 409);
    assert.equal((await h.call('POST', '/users', { email: 'not-an-email' })).status, 400);
    assert.equal(
      (await h.call('POST', '/users/root@irin.example/memberships', { tenant: 'acme', role: 'editor' }))
        .status,
      201,
    );
    assert.equal(
      (await h.call('PATCH', '/users/root@irin.example/memberships/acme', { role: 'admin' })).body.role,
      'admin',
    );
    assert.deepEqual(
      (await h.call('GET', '/tenants/acme/members')).body.map((m: any) => m.role),
      ['admin'],
    );
    const enrol = await h.call('POST', '/users/root@irin.example/enrol-mfa');
    const seed = new URL(enrol.body.otpauthUri).searchParams.get('secret')!;
    const conf = await h.call('POST', '/users/root@irin.example/confirm-mfa', { code: currentTotp(seed) });
    assert.equal(conf.body.recoveryCodes.length, 10);
    assert.equal((await h.call('POST', '/users/root@irin.example/reset-mfa')).body.mfaEnabled, false);
    assert.equal((await h.call('DELETE', '/users/root@irin.example/memberships/acme')).status, 204);
    assert.equal((await h.call('DELETE', '/users/root@irin.example/memberships/acme')).status, 404);

    const e = await h.call('POST', '/tenants/acme/endpoints', {
      name: 'home',
      url: 'https://acme.example/',
      headers: [{ name: 'X-Key', value: 'endpoint-secret-1', secret: true }],
    });
    assert.equal(e.status, 201);
    assert.equal(
      (await h.call('POST', '/tenants/acme/endpoints', { name: 'home', url: 'https://acme.example/' }))
        .status,
      409,
    );
    assert.equal((await h.call('PATCH', '/tenants/acme/endpoints/home', { intervalSeconds: 9 })).status, 400);
    const patched = await h.call('PATCH', '/tenants/acme/endpoints/home', {
      intervalSeconds: 120,
      expectedStatus: [200],
    });
    assert.deepEqual([patched.body.intervalSeconds, patched.body.expectedStatus], [120, [200]]);
    const listed = await h.call('GET', '/tenants/acme/endpoints');
    assert.ok(!JSON.stringify(listed.body).includes('endpoint-secret-1'));
    assert.equal((await h.call('DELETE', '/tenants/acme/endpoints/home')).status, 200);
    assert.equal((await h.call('GET', '/tenants/acme/endpoints/home')).status, 404);
  } finally {
    await h.close();
  }
});

test('a store that cannot answer gives 503 with Retry-After', async () => {
  const h = await harness();
  try {
    await h.plane.store.close();
    const r = await h.call('GET', '/tenants');
    assert.equal(r.status, 503);
    assert.ok(Number(r.headers['retry-after']) > 0);
  } finally {
    await h.close();
  }
});

test('nothing the server logs contains a secret', async () => {
  let logs = '';
  const h = await harness({}, { write: (line) => (logs += line) });
  try {
    await h.call('POST', '/tenants', { slug: 'acme' });
    const srv = await h.call('POST', '/tenants/acme/servers', { name: 'svr01' });
    const key = await h.call('POST', '/tenants/acme/apikeys', {});
    const user = await h.call('POST', '/users', { email: 'a@acme.example' });
    const wrong = 'W'.repeat(43);
    await h.call('GET', '/tenants', undefined, {
      headers: { authorization: `Bearer ${h.adminId}.${wrong}` },
    });
    await h.call('GET', '/tenants', undefined, {
      headers: { authorization: `Bearer ${srv.body.token.token}` },
    });
    assert.ok(logs.length > 0, 'the logger wrote nothing');
    for (const s of [
      h.adminToken.split('.')[1]!,
      srv.body.token.secret,
      key.body.secret,
      user.body.generatedPassword,
      wrong,
    ]) {
      assert.ok(!logs.includes(s), 'a secret appeared in the log');
    }
  } finally {
    await h.close();
  }
});
