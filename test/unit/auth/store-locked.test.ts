import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { createRequestAuthenticator } from '../../../src/auth/authenticator.ts';
import { CredentialError } from '../../../src/auth/request-auth.ts';
import { CONTROL_PLANE_DB_FILE, openControlPlane } from '../../../src/tenancy/open.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { createCredential } from '../../../src/tenancy/services/credentials.ts';
import { openTestPlane, tempDir } from '../tenancy/fixtures.ts';
import { bearer, fakeRequest } from './helpers.ts';

test('a database locked by another connection gives 503 with Retry-After, then recovers', async () => {
  const dir = tempDir();
  const setup = await openTestPlane({ dataDir: dir });
  await createTenant(setup.ctx, { slug: 'acme' });
  const tok = await createCredential(setup.ctx, 'push', 'acme', {});
  await setup.store.close();

  // Another process (here: connection) holds the database exclusively.
  const holder = new Database(join(dir, CONTROL_PLANE_DB_FILE), { timeout: 10 });
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.exec('BEGIN EXCLUSIVE');

  const plane = openControlPlane({ dataDir: dir, busyTimeoutMs: 20 });
  const errors: string[] = [];
  const auth = createRequestAuthenticator(plane.store, {
    hasher: plane.hasher,
    changePollIntervalMs: 0,
    onError: (_e, context) => errors.push(context),
  });
  try {
    await assert.rejects(auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token))), (e: unknown) => {
      assert.ok(e instanceof CredentialError);
      assert.equal(e.status, 503);
      assert.ok((e.retryAfterSeconds ?? 0) >= 1);
      return true;
    });
    assert.ok(errors.includes('credential store unavailable'));

    holder.exec('COMMIT');
    holder.close();
    const principal = await auth.authenticatePush(fakeRequest('10.0.0.1', bearer(tok.token)));
    assert.equal(principal.tenantSlug, 'acme');
  } finally {
    if (holder.open) holder.close();
    await auth.close();
    await plane.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
