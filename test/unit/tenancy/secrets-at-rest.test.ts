import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROL_PLANE_DB_FILE, INSTALL_KEYS_FILE } from '../../../src/tenancy/open.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import {
  createCredential,
  listCredentials,
  rotateCredential,
} from '../../../src/tenancy/services/credentials.ts';
import { addEndpoint, listEndpoints } from '../../../src/tenancy/services/endpoints.ts';
import { confirmMfa, createUser, enrolMfa } from '../../../src/tenancy/services/users.ts';
import { currentTotp } from '../../../src/auth/totp.ts';
import { openTestPlane } from './fixtures.ts';

/** Every byte the control plane wrote: the database file and its write-ahead log. */
function databaseBytes(dir: string): Buffer {
  const parts = [CONTROL_PLANE_DB_FILE, `${CONTROL_PLANE_DB_FILE}-wal`]
    .map((f) => join(dir, f))
    .filter((f) => existsSync(f))
    .map((f) => readFileSync(f));
  return Buffer.concat(parts);
}

test('no secret is stored in plain text, listed, or written to the audit log', async () => {
  const p = await openTestPlane();
  try {
    await createTenant(p.ctx, { slug: 'acme' });
    const { token } = await addServer(p.ctx, 'acme', { name: 'svr01' });
    const key = await createCredential(p.ctx, 'read', 'acme', { name: 'grafana' });
    const admin = await createCredential(p.ctx, 'admin', undefined, { name: 'ops' });
    const rotated = await rotateCredential(p.ctx, 'push', 'acme', token.credential.clientId);
    const password = 'a very long password 123';
    await createUser(p.ctx, { email: 'ops@acme.example', password });
    const { otpauthUri } = await enrolMfa(p.ctx, 'ops@acme.example');
    const seed = new URL(otpauthUri).searchParams.get('secret')!;
    const { recoveryCodes } = await confirmMfa(p.ctx, 'ops@acme.example', currentTotp(seed));
    const headerSecret = 'Bearer header-secret-0123456789';
    await addEndpoint(p.ctx, 'acme', {
      name: 'api',
      url: 'https://acme.example/',
      headers: [{ name: 'Authorization', value: headerSecret, secret: true }],
    });

    const secrets = [
      token.secret,
      key.secret,
      admin.secret,
      rotated.secret,
      password,
      seed,
      headerSecret,
      ...recoveryCodes,
    ];
    const bytes = databaseBytes(p.dataDir);
    const listed = JSON.stringify([
      await listCredentials(p.ctx, 'push', 'acme', { all: true }),
      await listCredentials(p.ctx, 'read', 'acme'),
      await listCredentials(p.ctx, 'admin', undefined),
      await listEndpoints(p.ctx, 'acme'),
      await p.store.listUsers(),
    ]);
    const audit = JSON.stringify(await p.store.listPlatformAudit({ limit: 10_000 }));
    for (const s of secrets) {
      assert.equal(bytes.includes(Buffer.from(s)), false, 'secret found in the database file');
      assert.equal(listed.includes(s), false, 'secret found in list output');
      assert.equal(audit.includes(s), false, 'secret found in the audit log');
    }
    // Recovery codes are typed without dashes too.
    for (const c of recoveryCodes) assert.equal(bytes.includes(Buffer.from(c.replace(/-/g, ''))), false);
    // The key file is private to the owner.
    assert.equal(statSync(join(p.dataDir, INSTALL_KEYS_FILE)).mode & 0o077, 0);
  } finally {
    await p.cleanup();
  }
});
