import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FastifyRequest } from 'fastify';
import { SecretHasher } from '../../../src/auth/credentials.ts';
import { checkCsrfToken, checkRequestOrigin, htmlCsp } from '../../../src/console/security.ts';
import { sessionIdHash } from '../../../src/auth/sessions.ts';
import { csrfTokenFor, readSessionCookie, sessionCookie } from '../../../src/console/session.ts';
import { pushSettings } from '../../../src/console/settings.ts';
import { SignInLimiter } from '../../../src/console/sign-in-limiter.ts';
import { serverState } from '../../../src/console/org-routes.ts';
import type { IssuedCredential } from '../../../src/tenancy/services/credentials.ts';
import type { Credential, Server } from '../../../src/tenancy/store.ts';

function req(headers: Record<string, string>, extra: Partial<FastifyRequest> = {}): FastifyRequest {
  const rawHeaders = Object.entries(headers).flat();
  return {
    headers,
    raw: { rawHeaders },
    protocol: 'https',
    host: 'irin.example.com',
    ...extra,
  } as unknown as FastifyRequest;
}

describe('console session cookie', () => {
  test('attributes: HttpOnly, SameSite=Strict, Path=/, Max-Age, Secure only with TLS', () => {
    assert.equal(
      sessionCookie('abc', 3600, false),
      'irin_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600',
    );
    assert.equal(
      sessionCookie('abc', 3600, true),
      'irin_session=abc; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600; Secure',
    );
    assert.match(sessionCookie('', -5, true), /Max-Age=0;/);
  });

  test('reads one session cookie; two different ones are refused', () => {
    assert.equal(readSessionCookie(req({ cookie: 'a=1; irin_session=tok; b=2' })), 'tok');
    assert.equal(readSessionCookie(req({ cookie: 'irin_session=tok; irin_session=other' })), undefined);
    assert.equal(readSessionCookie(req({ cookie: 'irin_session=tok; irin_session=tok' })), 'tok');
    assert.equal(readSessionCookie(req({ cookie: 'irin_session=' })), undefined);
    assert.equal(readSessionCookie(req({})), undefined);
  });

  test('the CSRF token is bound to the session and differs from its stored hash', () => {
    const hasher = new SecretHasher(Buffer.alloc(32, 7));
    const a = csrfTokenFor(hasher, 'session-a');
    assert.equal(a, csrfTokenFor(hasher, 'session-a'));
    assert.notEqual(a, csrfTokenFor(hasher, 'session-b'));
    assert.notEqual(a, sessionIdHash(hasher, 'session-a').toString('base64url'));
    assert.doesNotThrow(() => checkCsrfToken(req({ 'x-csrf-token': a }), a));
    assert.throws(() => checkCsrfToken(req({ 'x-csrf-token': a.slice(1) }), a), /x-csrf-token/);
    assert.throws(() => checkCsrfToken(req({}), a), /x-csrf-token/);
  });
});

describe('console request checks', () => {
  test('Origin must be the console itself (or an allowed origin)', () => {
    assert.doesNotThrow(() => checkRequestOrigin(req({ origin: 'https://irin.example.com' }), []));
    assert.throws(() => checkRequestOrigin(req({ origin: 'https://evil.example' }), []), /cross-origin/);
    assert.throws(() => checkRequestOrigin(req({ origin: 'http://irin.example.com' }), []), /cross-origin/);
    assert.doesNotThrow(() =>
      checkRequestOrigin(req({ origin: 'https://public.example' }), ['https://public.example']),
    );
    assert.throws(() => checkRequestOrigin(req({ 'sec-fetch-site': 'cross-site' }), []), /cross-site/);
    assert.doesNotThrow(() => checkRequestOrigin(req({ 'sec-fetch-site': 'same-origin' }), []));
  });

  test('bodies must be JSON', () => {
    const ok = { origin: 'https://irin.example.com', 'content-length': '2' };
    assert.doesNotThrow(() =>
      checkRequestOrigin(req({ ...ok, 'content-type': 'application/json; charset=utf-8' }), []),
    );
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      assert.throws(() => checkRequestOrigin(req({ ...ok, 'content-type': type }), []), /JSON/);
    }
  });

  test('the page CSP allows no inline script and no framing', () => {
    const csp = htmlCsp('n0nce');
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self' 'nonce-n0nce'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-/);
  });
});

describe('sign-in limiter', () => {
  test('per account and per address', () => {
    const l = new SignInLimiter({
      perAddress: { limit: 3, windowMs: 1000 },
      perAccount: { limit: 2, windowMs: 1000 },
    });
    l.recordFailure('10.0.0.1', 'Ann@Example.com', 0);
    assert.equal(l.blockedFor('10.0.0.1', 'ann@example.com', 1), 0);
    l.recordFailure('10.0.0.2', 'ann@example.com', 1);
    assert.ok(l.blockedFor('10.0.0.3', 'ann@example.com', 2) > 0, 'the account is blocked from any address');
    assert.equal(l.blockedFor('10.0.0.3', 'bob@example.com', 2), 0);
    l.recordFailure('10.0.0.9', 'x@example.com', 2);
    l.recordFailure('10.0.0.9', 'y@example.com', 3);
    l.recordFailure('10.0.0.9', 'z@example.com', 4);
    assert.ok(l.blockedFor('10.0.0.9', 'new@example.com', 5) > 0, 'the address is blocked for any account');
    assert.equal(l.blockedFor('10.0.0.9', 'new@example.com', 1100), 0, 'until the window passes');
  });
});

describe('server state and push settings', () => {
  const server = (lastSeenAt: string | null): Server => ({
    id: 1,
    tenantId: 1,
    name: 's',
    createdAt: '',
    lastSeenAt,
    lastSeenAddr: null,
  });
  test('up, stale, never seen', () => {
    const now = Date.parse('2030-01-01T00:10:00Z');
    assert.equal(serverState(server(null), now, 120_000), 'never-seen');
    assert.equal(serverState(server('2030-01-01T00:09:00Z'), now, 120_000), 'up');
    assert.equal(serverState(server('2030-01-01T00:07:00Z'), now, 120_000), 'stale');
  });

  test('a server-bound token comes with agent configurations pinning its instance', () => {
    const credential = { clientId: 'irin_push_abcdefghijklmnop', serverName: 'web-1' } as Credential;
    const issued: IssuedCredential = {
      credential,
      secret: 'S'.repeat(43),
      token: `irin_push_abcdefghijklmnop.${'S'.repeat(43)}`,
    };
    const s = pushSettings('https://irin.example.com', issued, { slug: 'acme', tenantLabel: 'tenant' });
    assert.equal(s.remoteWriteUrl, 'https://irin.example.com/api/v1/write');
    assert.equal(s.lokiPushUrl, 'https://irin.example.com/loki/api/v1/push');
    assert.match(s.alloyConfig!, /web-1/);
    assert.ok(s.alloyConfig!.includes('S'.repeat(43)), 'the secret is written in, shown once');
    assert.match(s.prometheusConfig!, /remote_write/);
    assert.match(s.installScript!, /#!\/|bash/);
    const wide = pushSettings(
      'https://irin.example.com',
      { ...issued, credential: { ...credential, serverName: null } },
      { slug: 'acme', tenantLabel: 'tenant' },
    );
    assert.equal(wide.alloyConfig, null);
    assert.equal(wide.instance, null);
  });
});
