import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { currentTotp } from '../../../src/auth/totp.ts';
import { addEndpoint } from '../../../src/tenancy/services/endpoints.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import { createCredential } from '../../../src/tenancy/services/credentials.ts';
import {
  Client,
  PASSWORD,
  seedUser,
  startConsoleHarness,
  totpSecretOf,
  type ConsoleHarness,
} from './harness.ts';

describe('console API', () => {
  let h: ConsoleHarness;
  let mfa: { totpSecret?: string; recoveryCodes?: string[] };

  before(async () => {
    h = await startConsoleHarness({ signInLimits: { perAccount: { limit: 4, windowMs: 60_000 } } });
    await seedUser(h, 'alice@acme.test', { orgs: [['acme', 'admin']] });
    await seedUser(h, 'viewer@acme.test', { orgs: [['acme', 'viewer']] });
    await seedUser(h, 'bob@globex.test', { orgs: [['globex', 'admin']] });
    await seedUser(h, 'both@example.test', {
      orgs: [
        ['acme', 'viewer'],
        ['globex', 'editor'],
      ],
    });
    mfa = await seedUser(h, 'carol@acme.test', { orgs: [['acme', 'editor']], mfa: true });
    await seedUser(h, 'root@provider.test', { platformAdmin: true });
  });
  after(() => h.close());

  test('sign-in sets a strict HttpOnly session cookie and /me describes the session', async () => {
    const c = new Client(h);
    const res = await c.call('POST', '/api/console/sign-in', {
      email: 'alice@acme.test',
      password: PASSWORD,
    });
    assert.equal(res.statusCode, 200);
    const cookie = String(res.headers['set-cookie']);
    assert.match(
      cookie,
      /^irin_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/,
    );
    c.csrf = c.json(res).me.csrfToken;
    const me = c.json(await c.call('GET', '/api/console/me'));
    assert.equal(me.user.email, 'alice@acme.test');
    assert.equal(me.currentOrg.slug, 'acme');
    assert.equal(me.currentOrg.role, 'admin');
    assert.deepEqual(
      me.orgs.map((o: { slug: string }) => o.slug),
      ['acme'],
    );
    assert.equal(res.headers['cache-control'], 'no-store');

    const out = await c.call('POST', '/api/console/sign-out', {});
    assert.equal(out.statusCode, 200);
    assert.match(String(out.headers['set-cookie']), /^irin_session=; .*Max-Age=0/);
    assert.equal(c.cookie, undefined);
  });

  test('the cookie is Secure when TLS is on', async () => {
    const tls = await startConsoleHarness({ secure: true });
    try {
      await seedUser(tls, 'dave@acme.test', { orgs: [['acme', 'viewer']] });
      const res = await new Client(tls).call('POST', '/api/console/sign-in', {
        email: 'dave@acme.test',
        password: PASSWORD,
      });
      assert.match(String(res.headers['set-cookie']), /; Secure$/);
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    } finally {
      await tls.close();
    }
  });

  test('wrong password and unknown user get the same answer', async () => {
    const c = new Client(h);
    const a = await c.call('POST', '/api/console/sign-in', {
      email: 'alice@acme.test',
      password: 'wrong password!!',
    });
    const b = await c.call('POST', '/api/console/sign-in', {
      email: 'nobody@acme.test',
      password: 'wrong password!!',
    });
    assert.equal(a.statusCode, 401);
    assert.equal(b.statusCode, 401);
    assert.equal(a.body, b.body);
    assert.equal(c.cookie, undefined);
  });

  test('MFA: password first, then a TOTP code; a recovery code works once', async () => {
    const c = new Client(h);
    const first = await c.call('POST', '/api/console/sign-in', {
      email: 'carol@acme.test',
      password: PASSWORD,
    });
    assert.deepEqual(c.json(first), { status: 'mfa-required' });
    assert.equal(first.headers['set-cookie'], undefined);
    const bad = await c.call('POST', '/api/console/sign-in', {
      email: 'carol@acme.test',
      password: PASSWORD,
      code: '000000',
    });
    assert.equal(bad.statusCode, 401);
    const me = await c.signIn('carol@acme.test', mfa.totpSecret);
    assert.equal(me.user.mfaEnabled, true);

    const code = mfa.recoveryCodes![0]!;
    const r1 = await new Client(h).call('POST', '/api/console/sign-in', {
      email: 'carol@acme.test',
      password: PASSWORD,
      recoveryCode: code,
    });
    assert.equal(c.json(r1).status, 'signed-in');
    assert.equal(c.json(r1).usedRecoveryCode, true);
    const r2 = await new Client(h).call('POST', '/api/console/sign-in', {
      email: 'carol@acme.test',
      password: PASSWORD,
      recoveryCode: code,
    });
    assert.equal(r2.statusCode, 401);
  });

  test('a platform admin without MFA must enrol; the ticket allows enrolment only, once', async () => {
    const c = new Client(h);
    const res = await c.call('POST', '/api/console/sign-in', {
      email: 'root@provider.test',
      password: PASSWORD,
    });
    const out = c.json(res);
    assert.equal(out.status, 'enrolment-required');
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal((await c.call('GET', '/api/console/me')).statusCode, 401);

    const forged = await c.call('POST', '/api/console/mfa/enrol', {
      ticket: out.ticket.replace(/.$/, (x: string) => (x === 'A' ? 'B' : 'A')),
    });
    assert.equal(forged.statusCode, 401);

    const enrol = c.json(await c.call('POST', '/api/console/mfa/enrol', { ticket: out.ticket }));
    assert.match(enrol.qrDataUrl, /^data:image\/png;base64,/);
    assert.match(enrol.otpauthUri, /^otpauth:\/\/totp\//);
    assert.equal(enrol.secret, await totpSecretOf(h, 'root@provider.test'));
    const confirmed = await c.call('POST', '/api/console/mfa/confirm', {
      ticket: out.ticket,
      code: currentTotp(enrol.secret),
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const body = c.json(confirmed);
    assert.equal(body.recoveryCodes.length, 10);
    assert.equal(body.me.user.platformAdmin, true);
    assert.equal(body.me.currentOrg, null);
    c.csrf = body.me.csrfToken;
    assert.equal((await c.call('GET', '/api/console/platform/tenants')).statusCode, 200);

    const again = await new Client(h).call('POST', '/api/console/mfa/enrol', { ticket: out.ticket });
    assert.equal(again.statusCode, 401);
  });

  test('state-changing requests need the CSRF header, the own origin and a JSON body', async () => {
    const c = new Client(h);
    await c.signIn('alice@acme.test');
    const token = c.csrf!;
    c.csrf = undefined;
    const noToken = await c.call('POST', '/api/console/servers', { name: 'csrf-1' });
    assert.equal(noToken.statusCode, 403);
    assert.match(c.json(noToken).error, /x-csrf-token/);
    c.csrf = 'x'.repeat(token.length);
    assert.equal((await c.call('POST', '/api/console/servers', { name: 'csrf-1' })).statusCode, 403);
    c.csrf = token;
    const foreign = await c.call(
      'POST',
      '/api/console/servers',
      { name: 'csrf-1' },
      { origin: 'https://evil.example' },
    );
    assert.equal(foreign.statusCode, 403);
    const crossSite = await c.call(
      'POST',
      '/api/console/servers',
      { name: 'csrf-1' },
      { 'sec-fetch-site': 'cross-site' },
    );
    assert.equal(crossSite.statusCode, 403);
    const text = await h.app.inject({
      method: 'POST',
      url: '/api/console/servers',
      headers: { cookie: `irin_session=${c.cookie}`, 'x-csrf-token': token, 'content-type': 'text/plain' },
      payload: '{"name":"csrf-1"}',
    });
    assert.equal(text.statusCode, 415);
    const ok = await c.call(
      'POST',
      '/api/console/servers',
      { name: 'csrf-1' },
      { origin: 'http://localhost:80' },
    );
    assert.equal(ok.statusCode, 200, ok.body);
    // Sign-in itself (no session yet) is refused from a foreign origin too (login CSRF).
    const login = await new Client(h).call(
      'POST',
      '/api/console/sign-in',
      { email: 'alice@acme.test', password: PASSWORD },
      { origin: 'https://evil.example' },
    );
    assert.equal(login.statusCode, 403);
  });

  test('sign-in is rate limited per account, before the password is checked', async () => {
    const c = new Client(h);
    for (let i = 0; i < 4; i++) {
      const r = await c.call('POST', '/api/console/sign-in', {
        email: 'viewer@acme.test',
        password: `wrong password ${i}`,
      });
      assert.equal(r.statusCode, 401);
    }
    const blocked = await c.call('POST', '/api/console/sign-in', {
      email: 'viewer@acme.test',
      password: PASSWORD,
    });
    assert.equal(blocked.statusCode, 429);
    assert.ok(Number(blocked.headers['retry-after']) > 0);
    assert.equal(c.cookie, undefined);
  });

  test("another org's objects answer 404, never 403", async () => {
    const globex = await h.plane.store.getTenantBySlug('globex');
    const svc = h.services;
    const { server } = await addServer(svc, 'globex', { name: 'globex-db' });
    const ep = await addEndpoint(svc, 'globex', { name: 'globex-web', url: 'https://globex.example/' });
    const key = await createCredential(svc, 'read', 'globex', { name: 'grafana' });
    const token = await createCredential(svc, 'push', 'globex', { name: 'fleet' });
    const bob = (await h.plane.store.getUserByEmail('bob@globex.test'))!;

    const c = new Client(h);
    await c.signIn('alice@acme.test');
    const probes: [string, string, unknown?][] = [
      ['GET', `/api/console/servers/${server.id}`],
      ['DELETE', `/api/console/servers/${server.id}`],
      ['POST', `/api/console/servers/${server.id}/tokens`, {}],
      ['PUT', `/api/console/endpoints/${ep.id}`, { enabled: false }],
      ['DELETE', `/api/console/endpoints/${ep.id}`],
      ['DELETE', `/api/console/api-keys/${key.credential.clientId}`],
      ['DELETE', `/api/console/push-tokens/${token.credential.clientId}`],
      ['PATCH', `/api/console/members/${bob.id}`, { role: 'viewer' }],
      ['DELETE', `/api/console/members/${bob.id}`],
      ['POST', '/api/console/org', { orgId: globex!.id }],
      ['GET', '/api/console/platform/tenants'],
      ['GET', `/api/console/platform/tenants/${globex!.id}`],
    ];
    for (const [method, url, payload] of probes) {
      const res = await c.call(method, url, payload);
      assert.equal(res.statusCode, 404, `${method} ${url}: ${res.statusCode} ${res.body}`);
    }
    // Nothing of globex's appears in acme's lists.
    for (const path of ['servers', 'endpoints', 'api-keys', 'push-tokens', 'members', 'audit']) {
      const body = (await c.call('GET', `/api/console/${path}`)).body;
      assert.doesNotMatch(body, /globex/, path);
    }
    // And the objects are all still there.
    assert.ok(await h.plane.store.getServer(globex!.id, server.id));
    assert.equal((await h.plane.store.listEndpoints(globex!.id)).length, 1);
  });

  test('a member of two orgs switches between them; roles apply per org', async () => {
    const c = new Client(h);
    const me = await c.signIn('both@example.test');
    assert.equal(me.currentOrg.slug, 'acme');
    assert.equal(
      (await c.call('POST', '/api/console/endpoints', { name: 'x', url: 'https://x.example/' })).statusCode,
      403,
    );
    const globex = me.orgs.find((o: { slug: string }) => o.slug === 'globex');
    const switched = c.json(await c.call('POST', '/api/console/org', { orgId: globex.id }));
    assert.equal(switched.currentOrg.slug, 'globex');
    const created = await c.call('POST', '/api/console/endpoints', {
      name: 'shop',
      url: 'https://shop.globex.example/',
    });
    assert.equal(created.statusCode, 200, created.body);
    assert.equal((await c.call('GET', '/api/console/servers')).statusCode, 200);
    assert.equal((await c.call('GET', '/api/console/api-keys')).statusCode, 403);
  });

  test('adding a server issues a server-bound token once, with settings', async () => {
    const c = new Client(h);
    await c.signIn('alice@acme.test');
    const res = c.json(await c.call('POST', '/api/console/servers', { name: 'acme-web-1' }));
    assert.equal(res.server.state, 'never-seen');
    assert.equal(res.token.serverName, 'acme-web-1');
    assert.match(res.settings.bearerToken, /^irin_push_[a-z2-7]{16}\.[A-Za-z0-9_-]{43}$/);
    assert.equal(res.settings.remoteWriteUrl, 'http://localhost:80/api/v1/write');
    assert.equal(res.settings.headers['CF-Access-Client-Id'], res.token.clientId);
    assert.match(res.settings.alloyConfig, /prometheus\.remote_write/);
    assert.match(res.settings.installScript, /irin-push-secret/);
    const list = c.json(await c.call('GET', '/api/console/servers'));
    const listed = list.find((s: { name: string }) => s.name === 'acme-web-1');
    assert.equal(listed.state, 'never-seen');
    assert.doesNotMatch(JSON.stringify(list), new RegExp(res.settings.secret));
    const tokens = (await c.call('GET', '/api/console/push-tokens')).body;
    assert.doesNotMatch(tokens, new RegExp(res.settings.secret));

    const key = c.json(await c.call('POST', '/api/console/api-keys', { name: 'grafana' }));
    assert.equal(key.grafana.prometheusUrl, 'http://localhost:80/prometheus');
    assert.equal(key.grafana.basicAuthUser, key.key.clientId);
    const revoked = await c.call('DELETE', `/api/console/api-keys/${key.key.clientId}`);
    assert.equal(revoked.statusCode, 200);
    assert.equal(c.json(revoked).revokedAt !== null, true);
  });

  test('an org keeps at least one admin', async () => {
    const c = new Client(h);
    const me = await c.signIn('alice@acme.test');
    const demote = await c.call('PATCH', `/api/console/members/${me.user.id}`, { role: 'viewer' });
    assert.equal(demote.statusCode, 409);
    const added = c.json(
      await c.call('POST', '/api/console/members', { email: 'new@acme.test', role: 'viewer' }),
    );
    assert.equal(added.role, 'viewer');
    assert.equal(typeof added.generatedPassword, 'string');
  });

  test('changing the password checks the current one and replaces every session', async () => {
    await seedUser(h, 'pw@acme.test', { orgs: [['acme', 'viewer']] });
    const other = new Client(h);
    await other.signIn('pw@acme.test');
    const c = new Client(h);
    await c.signIn('pw@acme.test');
    const wrong = await c.call('POST', '/api/console/account/password', {
      currentPassword: 'not the password',
      newPassword: 'a brand new password',
    });
    assert.equal(wrong.statusCode, 400);
    const short = await c.call('POST', '/api/console/account/password', {
      currentPassword: PASSWORD,
      newPassword: 'short',
    });
    assert.equal(short.statusCode, 400);
    const oldCookie = c.cookie;
    const ok = await c.call('POST', '/api/console/account/password', {
      currentPassword: PASSWORD,
      newPassword: 'a brand new password',
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.notEqual(c.cookie, oldCookie);
    assert.equal(c.json(ok).currentOrg.slug, 'acme');
    assert.equal((await c.call('GET', '/api/console/me')).statusCode, 200);
    assert.equal((await other.call('GET', '/api/console/me')).statusCode, 401, 'other sessions end');
    const again = await new Client(h).call('POST', '/api/console/sign-in', {
      email: 'pw@acme.test',
      password: 'a brand new password',
    });
    assert.equal(again.statusCode, 200);
  });

  test('security headers on API responses and the app page', async () => {
    const api = await h.app.inject({ method: 'GET', url: '/api/console/me' });
    assert.equal(api.statusCode, 401);
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
    assert.match(String(api.headers['content-security-policy']), /frame-ancestors 'none'/);
    assert.equal(api.headers['referrer-policy'], 'no-referrer');
    const page = await h.app.inject({ method: 'GET', url: '/console/overview' });
    // No build in this harness: a clear 503 page, still with the headers.
    assert.equal(page.statusCode, 503);
    assert.match(page.body, /build:console/);
    assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
    const root = await h.app.inject({ method: 'GET', url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/console/');
  });
});
