import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startDecommissionWatcher } from '../../../src/tenancy/decommission.ts';
import { createTenant, decommissionTenant } from '../../../src/tenancy/services/tenants.ts';
import type { Tenant } from '../../../src/tenancy/store.ts';
import { openTestPlane } from './fixtures.ts';

test('decommissioned tenants have their storage removed once, with retries on failure', async () => {
  const p = await openTestPlane();
  const removed: string[] = [];
  let failNext = true;
  const errors: unknown[] = [];
  const watcher = startDecommissionWatcher(p.store, {
    intervalMs: 60_000,
    removeStorage: async (t: Tenant) => {
      if (failNext) {
        failNext = false;
        throw new Error('disk busy');
      }
      removed.push(t.slug);
    },
    onError: (err) => errors.push(err),
  });
  try {
    await watcher.poke();
    await createTenant(p.ctx, { slug: 'acme' });
    await createTenant(p.ctx, { slug: 'keep' });
    await decommissionTenant(p.ctx, 'acme');
    await watcher.poke();
    assert.deepEqual(removed, []);
    assert.equal(errors.length, 1);
    await watcher.poke(); // retried although nothing changed since
    assert.deepEqual(removed, ['acme']);
    await watcher.poke();
    assert.deepEqual(removed, ['acme']);
    const acme = await p.store.getTenantBySlug('acme');
    assert.notEqual(acme?.storageRemovedAt, null);
    assert.equal((await p.store.listPlatformAudit({ action: 'tenant.storage-removed' }))[0]?.actor, 'system');
  } finally {
    await watcher.close();
    await p.cleanup();
  }
});
