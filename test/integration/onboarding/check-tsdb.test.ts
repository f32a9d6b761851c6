import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Fastify from 'fastify';
import { labelsFromRecord } from '../../../src/model/labels.ts';
import { staleNaN } from '../../../src/model/samples.ts';
import { checkServer } from '../../../src/onboarding/check.ts';
import { fetchServerCheck, serverCheckApiRoutes } from '../../../src/onboarding/check-api.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { openTsdb } from '../../../src/tsdb/db.ts';
import { openTestPlane, tempDir } from '../../unit/tenancy/fixtures.ts';

/** The check's data half against Irin's own TSDB (its querier contract, stale markers included). */
test("server check counts the server's series in the real TSDB and ignores stale markers", async () => {
  const dir = tempDir('irin-check-');
  const now = Date.now();
  const plane = await openTestPlane({ dataDir: join(dir, 'cp') });
  const tsdb = await openTsdb({ dir: join(dir, 'tsdb'), now: () => now });
  const app = Fastify();
  try {
    const tenant = await createTenant(plane.ctx, { slug: 'acme' });
    await addServer(plane.ctx, 'acme', { name: 'web-1' });
    const series = (record: Record<string, string>, samples: { t: number; v: number }[]) => ({
      labels: labelsFromRecord(record),
      samples,
    });
    const stale = { t: now - 2_000, v: staleNaN() };
    await tsdb.append({
      series: [
        series({ __name__: 'node_load1', instance: 'web-1', tenant: 'acme' }, [{ t: now - 6_000, v: 0.5 }]),
        series({ __name__: 'node_load5', instance: 'web-1', tenant: 'acme' }, [
          { t: now - 5_000, v: 0.5 },
          stale,
        ]),
        series({ __name__: 'node_load1', instance: 'web-2', tenant: 'acme' }, [{ t: now - 1_000, v: 1 }]),
        series({ __name__: 'node_load1', instance: 'web-1', tenant: 'acme', old: 'yes' }, [
          { t: now - 3_600_000, v: 1 },
        ]),
      ],
    });
    const check = await checkServer({
      store: plane.store,
      querier: tsdb.querier(),
      tenantId: tenant.id,
      serverName: 'web-1',
      tenantLabel: 'tenant',
      now,
    });
    assert.deepEqual(check.data, {
      windowSeconds: 900,
      series: 2,
      metrics: 2,
      newestSampleAt: new Date(now - 5_000).toISOString(),
    });
    assert.equal(check.status, 'receiving');

    // The same through the admin route the CLI's --url calls.
    await app.register(serverCheckApiRoutes, {
      store: plane.store,
      authenticator: {
        authenticateAdmin: async () => ({ kind: 'admin', clientId: 'k', actor: 'admin-key:k' }),
      },
      querierFor: async () => tsdb.querier(),
      tenantLabel: 'tenant',
      now: () => now,
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const viaApi = await fetchServerCheck({ url, adminKey: 'k.s', tenant: 'acme', server: 'web-1' });
    assert.deepEqual(viaApi.data, check.data);
  } finally {
    await app.close();
    await tsdb.close();
    await plane.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
