import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenantPartitions, assertTenantId } from '../../../src/tsdb/partitions.ts';
import { L, captureLogger, tempDir } from './helpers.ts';

const up = (tenant: string) => L({ __name__: 'up', tenant });
const selectUp = [{ name: '__name__', type: '=' as const, value: 'up' }];

test('each tenant gets its own partition directory, opened lazily and kept apart', async (t) => {
  const dataDir = tempDir(t);
  const parts = new TenantPartitions({ dataDir, maintenanceIntervalMs: 0, now: () => 0 });
  t.after(() => parts.closeAll());
  assert.deepEqual(parts.openTenants(), []);
  const [a, a2] = await Promise.all([parts.get('acme'), parts.get('acme')]);
  assert.equal(a, a2, 'concurrent gets share one instance');
  const b = await parts.get('globex');
  await a.append({ series: [{ labels: up('acme'), samples: [{ t: 1000, v: 1 }] }] });
  await b.append({ series: [{ labels: up('globex'), samples: [{ t: 1000, v: 2 }] }] });
  assert.ok(existsSync(join(dataDir, 'tenants', 'acme', 'tsdb', 'wal')));
  assert.ok(existsSync(join(dataDir, 'tenants', 'globex', 'tsdb', 'wal')));
  const seen = (await parts.get('acme')).querier().select(selectUp, 0, 1e9);
  assert.deepEqual(
    seen.map((s) => s.labels.find((l) => l.name === 'tenant')!.value),
    ['acme'],
  );
  assert.deepEqual(parts.openTenants().sort(), ['acme', 'globex']);
});

test('tenant ids that could escape the data directory are refused', async (t) => {
  const parts = new TenantPartitions({ dataDir: tempDir(t), maintenanceIntervalMs: 0 });
  t.after(() => parts.closeAll());
  for (const bad of ['', '..', '../x', 'a/b', 'a\\b', '.hidden', 'x'.repeat(200), 'a..b']) {
    assert.throws(() => assertTenantId(bad), /invalid tenant id/, JSON.stringify(bad));
    await assert.rejects(parts.get(bad), /invalid tenant id/);
  }
  assertTenantId('tenant-1_ok.example');
});

test('drop closes the tenant and deletes its partition; the tenant starts empty afterwards', async (t) => {
  const dataDir = tempDir(t);
  const parts = new TenantPartitions({ dataDir, maintenanceIntervalMs: 0, now: () => 0 });
  t.after(() => parts.closeAll());
  const a = await parts.get('acme');
  await a.append({ series: [{ labels: up('acme'), samples: [{ t: 1000, v: 1 }] }] });
  const other = await parts.get('other');
  await other.append({ series: [{ labels: up('other'), samples: [{ t: 1000, v: 1 }] }] });
  mkdirSync(join(dataDir, 'tenants', 'other', 'logs'), { recursive: true });
  await parts.drop('acme');
  assert.ok(!existsSync(join(dataDir, 'tenants', 'acme')));
  await assert.rejects(
    a.append({ series: [{ labels: up('acme'), samples: [{ t: 2000, v: 1 }] }] }),
    /closed/,
  );
  const fresh = await parts.get('acme');
  assert.equal(fresh.querier().select(selectUp, 0, 1e9).length, 0);
  // a tenant directory holding other parts (logs) keeps them
  await parts.drop('other');
  assert.deepEqual(readdirSync(join(dataDir, 'tenants', 'other')), ['logs']);
  // dropping a tenant that was never opened removes what is on disk
  mkdirSync(join(dataDir, 'tenants', 'ghost', 'tsdb', 'wal'), { recursive: true });
  await parts.drop('ghost');
  assert.ok(!existsSync(join(dataDir, 'tenants', 'ghost')));
});

test('closeAll flushes every tenant; data is back after reopening', async (t) => {
  const dataDir = tempDir(t);
  const parts = new TenantPartitions({ dataDir, maintenanceIntervalMs: 0, now: () => 0 });
  for (const tenant of ['a', 'b', 'c']) {
    const db = await parts.get(tenant);
    await db.append({ series: [{ labels: up(tenant), samples: [{ t: 5, v: 5 }] }] });
  }
  await parts.closeAll();
  await assert.rejects(parts.get('a'), /closed/);
  const again = new TenantPartitions({ dataDir, maintenanceIntervalMs: 0, now: () => 0 });
  t.after(() => again.closeAll());
  for (const tenant of ['a', 'b', 'c']) {
    const db = await again.get(tenant);
    assert.equal(db.replayStats!.checkpointSeries, 1, 'closeAll wrote a checkpoint');
    assert.equal(db.querier().select(selectUp, 0, 10).length, 1);
  }
});

test('the maintenance loop cuts blocks per tenant with per-tenant retention, and a broken tenant does not stop it', async (t) => {
  const dataDir = tempDir(t);
  const log = captureLogger();
  const retention: Record<string, number> = { keep: 1e12, expire: 1 };
  const parts = new TenantPartitions({
    dataDir,
    blockDurationMs: 60_000,
    retentionMs: (tenant) => retention[tenant] ?? 1e12,
    outOfOrderWindowMs: (tenant) => (tenant === 'keep' ? 10_000 : 0),
    maintenanceIntervalMs: 0,
    now: () => 1e6,
    logger: log,
  });
  t.after(() => parts.closeAll());
  for (const tenant of ['keep', 'expire']) {
    const db = await parts.get(tenant);
    await db.append({
      series: [
        { labels: up(tenant), samples: Array.from({ length: 100 }, (_, i) => ({ t: i * 1000, v: i })) },
      ],
    });
  }
  // the out-of-order window is per tenant
  const keep = await parts.get('keep');
  const expire = await parts.get('expire');
  assert.deepEqual(
    (await keep.append({ series: [{ labels: up('keep'), samples: [{ t: 98_500, v: 1 }] }] })).rejected,
    [],
  );
  assert.equal(
    (await expire.append({ series: [{ labels: up('expire'), samples: [{ t: 98_500, v: 1 }] }] })).rejected[0]
      ?.reason,
    'out_of_order',
  );
  // a tenant whose WAL directory became a file fails to open; the others are unaffected
  mkdirSync(join(dataDir, 'tenants', 'broken', 'tsdb'), { recursive: true });
  writeFileSync(join(dataDir, 'tenants', 'broken', 'tsdb', 'wal'), 'not a directory');
  await assert.rejects(parts.get('broken'));
  await parts.runMaintenance();
  assert.equal(keep.blockMetas().length, 1, 'block cut and kept');
  assert.equal(expire.blockMetas().length, 0, 'block cut, then dropped by its 1 ms retention');
  assert.ok(log.lines.some((l) => /head block written/.test(l.msg) && l.obj.tenant === 'keep'));
  assert.ok(
    log.lines.some((l) => /opening the tenant partition failed/.test(l.msg) && l.obj.tenant === 'broken'),
  );
  assert.equal(readFileSync(join(dataDir, 'tenants', 'broken', 'tsdb', 'wal'), 'utf8'), 'not a directory');
});

test('a head that needs cutting schedules maintenance without waiting for the interval', async (t) => {
  const dataDir = tempDir(t);
  const parts = new TenantPartitions({
    dataDir,
    blockDurationMs: 60_000,
    maintenanceIntervalMs: 3_600_000,
    now: () => 0,
  });
  t.after(() => parts.closeAll());
  const db = await parts.get('busy');
  await db.append({
    series: [{ labels: up('busy'), samples: Array.from({ length: 100 }, (_, i) => ({ t: i * 1000, v: i })) }],
  });
  await db.append({ series: [{ labels: up('busy'), samples: [{ t: 100_000, v: 1 }] }] });
  for (let i = 0; i < 100 && db.blockMetas().length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(db.blockMetas().length, 1);
});
