import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/tenancy/errors.ts';
import { createTenant, decommissionTenant, setTenantStatus } from '../../../src/tenancy/services/tenants.ts';
import { addServer, removeServer } from '../../../src/tenancy/services/servers.ts';
import {
  createCredential,
  revokeCredential,
  rotateCredential,
} from '../../../src/tenancy/services/credentials.ts';
import { addEndpoint } from '../../../src/tenancy/services/endpoints.ts';
import { openTestPlane, TEST_ACTOR } from './fixtures.ts';

test('tenant ids are never reused and slugs stay taken after decommissioning', async () => {
  const p = await openTestPlane();
  try {
    const a = await createTenant(p.ctx, { slug: 'acme' });
    const b = await createTenant(p.ctx, { slug: 'beta', displayName: 'Beta Corp' });
    assert.equal(b.id, a.id + 1);
    assert.equal(b.displayName, 'Beta Corp');
    await decommissionTenant(p.ctx, 'beta');
    const c = await createTenant(p.ctx, { slug: 'gamma' });
    assert.equal(c.id, b.id + 1);
    await assert.rejects(
      createTenant(p.ctx, { slug: 'beta' }),
      (e: Error) => e instanceof ConflictError && /never reused/.test(e.message),
    );
    await assert.rejects(
      createTenant(p.ctx, { slug: 'acme' }),
      (e: Error) => e instanceof ConflictError && /already exists/.test(e.message),
    );
  } finally {
    await p.cleanup();
  }
});

test('invalid slugs are refused with the rule', async () => {
  const p = await openTestPlane();
  try {
    for (const slug of ['Acme', '-acme', 'acme-', 'a_b', '', 'x'.repeat(64), 'acme inc']) {
      await assert.rejects(
        createTenant(p.ctx, { slug }),
        (e: Error) => e instanceof ValidationError && /lowercase letters, digits and dashes/.test(e.message),
        slug,
      );
    }
    assert.equal((await createTenant(p.ctx, { slug: 'x'.repeat(63) })).slug.length, 63);
    assert.equal((await createTenant(p.ctx, { slug: '7' })).slug, '7');
  } finally {
    await p.cleanup();
  }
});

test('tenant-owned rows are only reachable with their own tenant id', async () => {
  const p = await openTestPlane();
  try {
    const a = await createTenant(p.ctx, { slug: 'acme' });
    const b = await createTenant(p.ctx, { slug: 'beta' });
    const { server, token } = await addServer(p.ctx, 'acme', { name: 'acme-svr01' });
    const key = await createCredential(p.ctx, 'read', 'acme', { name: 'grafana' });
    const ep = await addEndpoint(p.ctx, 'acme', { name: 'home', url: 'https://acme.example/' });

    assert.equal(await p.store.getServer(b.id, server.id), undefined);
    assert.equal(await p.store.getServerByName(b.id, 'acme-svr01'), undefined);
    assert.deepEqual(await p.store.listServers(b.id), []);
    assert.equal(
      await p.store.getCredential({ kind: 'push', tenantId: b.id }, token.credential.clientId),
      undefined,
    );
    assert.equal(
      await p.store.getCredential({ kind: 'read', tenantId: b.id }, key.credential.clientId),
      undefined,
    );
    // A push token is not reachable as a read key of the same tenant either.
    assert.equal(
      await p.store.getCredential({ kind: 'read', tenantId: a.id }, token.credential.clientId),
      undefined,
    );
    assert.equal(
      await p.store.revokeCredential({ kind: 'push', tenantId: b.id }, token.credential.clientId, TEST_ACTOR),
      undefined,
    );
    assert.equal(await p.store.removeServer(b.id, server.id, TEST_ACTOR), undefined);
    assert.equal(await p.store.removeEndpoint(b.id, ep.id, TEST_ACTOR), false);
    assert.deepEqual(await p.store.listEndpoints(b.id), []);
    assert.equal(
      (await p.store.getCredential({ kind: 'push', tenantId: a.id }, token.credential.clientId))?.revokedAt,
      null,
    );
    await assert.rejects(
      p.store.createCredential(
        {
          kind: 'push',
          tenantId: b.id,
          serverId: server.id,
          clientId: 'irin_push_aaaaaaaaaaaaaaaa',
          secretHash: Buffer.alloc(32),
          name: '',
        },
        TEST_ACTOR,
      ),
      NotFoundError,
    );
  } finally {
    await p.cleanup();
  }
});

test('servers: unique live names, removal revokes bound tokens, name reusable afterwards', async () => {
  const p = await openTestPlane();
  try {
    const t = await createTenant(p.ctx, { slug: 'acme' });
    const { server, token } = await addServer(p.ctx, 'acme', { name: 'svr01' });
    assert.equal(token.credential.serverId, server.id);
    assert.equal(token.credential.serverName, 'svr01');
    assert.match(token.credential.clientId, /^irin_push_[a-z2-7]{16}$/);
    assert.equal(token.token, `${token.credential.clientId}.${token.secret}`);
    await assert.rejects(
      addServer(p.ctx, 'acme', { name: 'svr01' }),
      /server "svr01" already exists in tenant "acme"/,
    );
    await assert.rejects(addServer(p.ctx, 'acme', { name: '-bad' }), /letter or digit/);
    const tenantWide = await createCredential(p.ctx, 'push', 'acme', {});
    const removed = await removeServer(p.ctx, 'acme', 'svr01');
    assert.equal(removed.revokedTokens, 1);
    const tokens = await p.store.listCredentials({ kind: 'push', tenantId: t.id });
    assert.notEqual(tokens.find((c) => c.clientId === token.credential.clientId)?.revokedAt, null);
    assert.equal(tokens.find((c) => c.clientId === tenantWide.credential.clientId)?.revokedAt, null);
    const again = await addServer(p.ctx, 'acme', { name: 'svr01' });
    assert.notEqual(again.server.id, server.id);
    await assert.rejects(removeServer(p.ctx, 'acme', 'nope'), NotFoundError);
  } finally {
    await p.cleanup();
  }
});

test('rotation keeps the previous hash until the grace deadline; revoked tokens cannot rotate', async () => {
  const p = await openTestPlane();
  try {
    await createTenant(p.ctx, { slug: 'acme' });
    const tok = await createCredential(p.ctx, 'push', 'acme', { name: 'ci' });
    const before = await p.store.findCredentialForAuth(tok.credential.clientId);
    const rotated = await rotateCredential(p.ctx, 'push', 'acme', tok.credential.clientId, { grace: '1h' });
    assert.notEqual(rotated.secret, tok.secret);
    const after = await p.store.findCredentialForAuth(tok.credential.clientId);
    assert.deepEqual(after?.previousSecretHash, before?.secretHash);
    assert.ok(
      p.hasher.matches(
        p.hasher.hashCredentialSecret(tok.credential.clientId, rotated.secret),
        after!.secretHash,
      ),
    );
    assert.ok(Math.abs(Date.parse(after!.previousValidUntil!) - Date.now() - 3_600_000) < 5000);
    const noGrace = await rotateCredential(p.ctx, 'push', 'acme', tok.credential.clientId, { grace: '0' });
    assert.equal(noGrace.previousValidUntil, null);
    assert.equal((await p.store.findCredentialForAuth(tok.credential.clientId))?.previousSecretHash, null);
    await revokeCredential(p.ctx, 'push', 'acme', tok.credential.clientId);
    await assert.rejects(rotateCredential(p.ctx, 'push', 'acme', tok.credential.clientId), ConflictError);
    await assert.rejects(revokeCredential(p.ctx, 'push', 'acme', tok.credential.clientId), /already revoked/);
  } finally {
    await p.cleanup();
  }
});

test('change_seq moves on credential and tenant changes, not on last-used bookkeeping', async () => {
  const p = await openTestPlane();
  try {
    await createTenant(p.ctx, { slug: 'acme' });
    const tok = await createCredential(p.ctx, 'push', 'acme', {});
    const s0 = await p.store.getChangeSeq('credentials');
    await p.store.recordCredentialUse([
      { clientId: tok.credential.clientId, at: new Date().toISOString(), addr: '10.0.0.1' },
    ]);
    assert.equal(await p.store.getChangeSeq('credentials'), s0);
    const used = await p.store.findCredentialForAuth(tok.credential.clientId);
    assert.equal(used?.lastUsedAddr, '10.0.0.1');
    await setTenantStatus(p.ctx, 'acme', 'suspended');
    const s1 = await p.store.getChangeSeq('credentials');
    assert.ok(s1 > s0);
    await revokeCredential(p.ctx, 'push', 'acme', tok.credential.clientId);
    assert.ok((await p.store.getChangeSeq('credentials')) > s1);
  } finally {
    await p.cleanup();
  }
});

test('decommissioning revokes every credential, ends sessions and queues storage removal', async () => {
  const p = await openTestPlane();
  try {
    const t = await createTenant(p.ctx, { slug: 'acme' });
    await addServer(p.ctx, 'acme', { name: 'svr01' });
    await createCredential(p.ctx, 'push', 'acme', {});
    await createCredential(p.ctx, 'read', 'acme', {});
    const user = await p.store.createUser(
      { email: 'a@acme.example', displayName: '', passwordHash: 'x', platformAdmin: false },
      TEST_ACTOR,
    );
    await p.store.createSession({
      idHash: Buffer.alloc(32, 1),
      userId: user.id,
      tenantId: t.id,
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      sourceAddr: null,
    });
    const result = await decommissionTenant(p.ctx, 'acme');
    assert.equal(result.revokedCredentials, 3);
    assert.equal(result.endedSessions, 1);
    assert.equal(result.tenant.status, 'decommissioned');
    assert.deepEqual(
      (await p.store.listTenantsAwaitingStorageRemoval()).map((x) => x.slug),
      ['acme'],
    );
    await p.store.markTenantStorageRemoved(t.id, TEST_ACTOR);
    assert.deepEqual(await p.store.listTenantsAwaitingStorageRemoval(), []);
    await assert.rejects(addServer(p.ctx, 'acme', { name: 'svr02' }), /decommissioned/);
    await assert.rejects(setTenantStatus(p.ctx, 'acme', 'active'), ConflictError);
    await assert.rejects(decommissionTenant(p.ctx, 'acme'), /already decommissioned/);
  } finally {
    await p.cleanup();
  }
});

test('push rejections keep the newest N per server', async () => {
  const p = await openTestPlane();
  try {
    const t = await createTenant(p.ctx, { slug: 'acme' });
    const other = await createTenant(p.ctx, { slug: 'other' });
    const { server } = await addServer(p.ctx, 'acme', { name: 'svr01' });
    for (let i = 0; i < 60; i++)
      await p.store.recordPushRejection(t.id, { serverId: server.id, status: 400, reason: `bad ${i}` });
    await p.store.recordPushRejection(t.id, { status: 401, reason: 'token revoked' });
    // A server id of another tenant is not attached to this tenant's rejection.
    await p.store.recordPushRejection(other.id, { serverId: server.id, status: 400, reason: 'x' });
    const list = await p.store.listPushRejections(t.id, { serverId: server.id, limit: 1000 });
    assert.equal(list.length, 50);
    assert.equal(list[0]?.reason, 'bad 59');
    assert.equal((await p.store.listPushRejections(t.id, { limit: 1000 })).length, 51);
    assert.equal((await p.store.listPushRejections(other.id))[0]?.serverId, null);
  } finally {
    await p.cleanup();
  }
});

test('audit log: every change, per org and platform-wide, time and action filters', async () => {
  const p = await openTestPlane();
  try {
    const a = await createTenant(p.ctx, { slug: 'acme' });
    await createTenant(p.ctx, { slug: 'beta' });
    await addServer(p.ctx, 'acme', { name: 'svr01' });
    await setTenantStatus(p.ctx, 'beta', 'suspended');
    const acme = await p.store.listAudit(a.id);
    assert.deepEqual(
      acme.map((e) => e.action),
      ['token.create', 'server.add', 'tenant.create'],
    );
    assert.ok(acme.every((e) => e.tenantId === a.id && e.actor === 'test' && e.sourceAddr === '127.0.0.1'));
    const all = await p.store.listPlatformAudit();
    assert.equal(all.length, 5);
    assert.deepEqual(
      (await p.store.listPlatformAudit({ action: 'tenant.*' })).map((e) => e.action),
      ['tenant.suspend', 'tenant.create', 'tenant.create'],
    );
    assert.equal(
      (await p.store.listPlatformAudit({ since: new Date(Date.now() + 60_000).toISOString() })).length,
      0,
    );
    assert.equal((await p.store.listPlatformAudit({ limit: 2 })).length, 2);
    await p.store.appendAudit({
      actor: 'x',
      action: 'probe',
      tenantId: null,
      target: null,
      sourceAddr: null,
      details: { secret: 'hunter2', nested: { password: 'p' }, ok: 1 },
    });
    const [last] = await p.store.listPlatformAudit({ limit: 1 });
    assert.deepEqual(last?.details, { secret: '[redacted]', nested: { password: '[redacted]' }, ok: 1 });
  } finally {
    await p.cleanup();
  }
});

test('endpoints: secret header values are never listed, kept on update, decrypted for the prober', async () => {
  const p = await openTestPlane();
  try {
    const t = await createTenant(p.ctx, { slug: 'acme' });
    const ep = await addEndpoint(p.ctx, 'acme', {
      name: 'api',
      url: 'https://api.acme.example/health',
      headers: [
        { name: 'Authorization', value: 'Bearer s3cr3t-value', secret: true },
        { name: 'X-Env', value: 'prod' },
      ],
    });
    assert.equal(ep.intervalSeconds, 60);
    assert.equal(ep.timeoutSeconds, 10);
    assert.deepEqual(ep.headers, [
      { name: 'Authorization', value: null, secret: true },
      { name: 'X-Env', value: 'prod', secret: false },
    ]);
    assert.ok(!JSON.stringify(await p.store.listEndpoints(t.id)).includes('s3cr3t'));
    const { updateEndpoint } = await import('../../../src/tenancy/services/endpoints.ts');
    await updateEndpoint(p.ctx, 'acme', 'api', { intervalSeconds: 30 });
    const [probe] = await p.store.listEndpointsForProbing(t.id);
    assert.equal(probe?.intervalSeconds, 30);
    assert.deepEqual(probe?.headers, [
      { name: 'Authorization', value: 'Bearer s3cr3t-value', secret: true },
      { name: 'X-Env', value: 'prod', secret: false },
    ]);
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', { name: 'api', url: 'https://x.example/' }),
      /already exists/,
    );
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', { name: 'x', url: 'ftp://x.example/' }),
      /http:\/\/ or https:\/\//,
    );
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', { name: 'x', url: 'https://u:p@x.example/' }),
      /user name or password/,
    );
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', { name: 'x', url: 'https://x.example/', intervalSeconds: 5 }),
      /from 10 to 86400/,
    );
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', {
        name: 'x',
        url: 'https://x.example/',
        bodyMatch: { kind: 'regex', pattern: '(' },
      }),
      /invalid body match regex/,
    );
    await assert.rejects(
      addEndpoint(p.ctx, 'acme', {
        name: 'x',
        url: 'https://x.example/',
        headers: [{ name: 'X-Key', secret: true }],
      }),
      /needs a value/,
    );
  } finally {
    await p.cleanup();
  }
});
