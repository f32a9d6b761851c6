import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, verifyPassword } from '../../../src/auth/password.ts';
import { currentTotp, verifyTotp } from '../../../src/auth/totp.ts';
import { verifyLogin } from '../../../src/auth/login.ts';
import { confirmMfa, createUser, enrolMfa, resetMfa } from '../../../src/tenancy/services/users.ts';
import { openTestPlane } from '../tenancy/fixtures.ts';

test('scrypt password hashes: salted, verifiable, self-describing', async () => {
  const a = await hashPassword('correct horse battery');
  const b = await hashPassword('correct horse battery');
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.equal(await verifyPassword('correct horse battery', a), true);
  assert.equal(await verifyPassword('correct horse batterY', a), false);
  assert.equal(await verifyPassword('x', 'not-a-hash'), false);
});

test('TOTP codes verify within one step of drift', () => {
  const secret = 'JBSWY3DPEHPK3PXP';
  const t = Date.parse('2030-01-01T00:00:00Z');
  const step = t / 30_000;
  assert.equal(verifyTotp(secret, currentTotp(secret, t), t), step);
  assert.equal(verifyTotp(secret, currentTotp(secret, t - 30_000), t), step - 1);
  assert.equal(verifyTotp(secret, currentTotp(secret, t - 90_000), t), undefined);
  assert.equal(verifyTotp(secret, 'abcdef', t), undefined);
});

test('login: password, MFA with single-use codes, platform admins need MFA', async () => {
  let now = Date.parse('2030-01-01T00:00:00Z');
  const p = await openTestPlane({ now: () => now });
  try {
    await createUser(p.ctx, {
      email: 'Admin@Irin.example',
      password: 'admin password 1',
      platformAdmin: true,
    });
    await createUser(p.ctx, { email: 'user@acme.example', password: 'user password 12' });
    const login = (email: string, password: string, extra: { code?: string; recoveryCode?: string } = {}) =>
      verifyLogin(p, { email, password, now, ...extra });

    assert.deepEqual(await login('nobody@x.example', 'whatever pw'), {
      ok: false,
      reason: 'invalid-credentials',
    });
    assert.deepEqual(await login('user@acme.example', 'wrong password'), {
      ok: false,
      reason: 'invalid-credentials',
    });
    assert.equal((await login('user@acme.example', 'user password 12')).ok, true);
    assert.deepEqual(await login('admin@irin.example', 'admin password 1'), {
      ok: false,
      reason: 'mfa-enrolment-required',
    });

    const { otpauthUri } = await enrolMfa(p.ctx, 'admin@irin.example');
    assert.match(otpauthUri, /^otpauth:\/\/totp\/Irin:admin%40irin\.example\?/);
    const seed = new URL(otpauthUri).searchParams.get('secret')!;
    assert.deepEqual(await login('admin@irin.example', 'admin password 1'), {
      ok: false,
      reason: 'mfa-enrolment-required',
    });
    await assert.rejects(confirmMfa(p.ctx, 'admin@irin.example', '000000'), /not valid/);
    const { recoveryCodes } = await confirmMfa(p.ctx, 'admin@irin.example', currentTotp(seed, now));
    assert.equal(recoveryCodes.length, 10);

    now += 30_000;
    assert.deepEqual(await login('admin@irin.example', 'admin password 1'), {
      ok: false,
      reason: 'mfa-required',
    });
    const code = currentTotp(seed, now);
    assert.equal((await login('admin@irin.example', 'admin password 1', { code })).ok, true);
    // The same code (same time step) is not accepted twice.
    assert.deepEqual(await login('admin@irin.example', 'admin password 1', { code }), {
      ok: false,
      reason: 'invalid-mfa-code',
    });
    const rc = recoveryCodes[0]!.toUpperCase();
    assert.equal((await login('admin@irin.example', 'admin password 1', { recoveryCode: rc })).ok, true);
    assert.deepEqual(await login('admin@irin.example', 'admin password 1', { recoveryCode: rc }), {
      ok: false,
      reason: 'invalid-mfa-code',
    });

    await resetMfa(p.ctx, 'admin@irin.example');
    assert.deepEqual(
      await login('admin@irin.example', 'admin password 1', { code: currentTotp(seed, now + 60_000) }),
      {
        ok: false,
        reason: 'mfa-enrolment-required',
      },
    );
    const actions = (await p.store.listPlatformAudit({ action: 'user.*' })).map((e) => e.action);
    assert.ok(
      actions.includes('user.login') &&
        actions.includes('user.login-failed') &&
        actions.includes('user.mfa-reset'),
    );
  } finally {
    await p.cleanup();
  }
});
