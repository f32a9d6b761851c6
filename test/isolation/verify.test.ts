import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { AdminClient } from '../../src/isolation/admin-client.ts';
import { verifyIsolation } from '../../src/isolation/verify.ts';
import { tempDir } from '../support/irin.ts';
import { waitFor } from '../support/http.ts';
import { exitOf, spawnIrin, type IrinProcess } from '../support/process.ts';
import { createAdminKey, startIsolationTarget } from './harness.ts';

const run = promisify(execFile);

interface TenantJson {
  id: number;
  slug: string;
  status: string;
  storageRemovedAt: string | null;
}

/** Every canary tenant (or those named) is decommissioned and its storage is gone from the data dir. */
async function assertCanariesGone(
  url: string,
  adminKey: string,
  dataDir: string,
  slugs?: readonly string[],
): Promise<TenantJson[]> {
  const admin = new AdminClient(url, adminKey);
  const canaries = (await admin.call<TenantJson[]>('GET', '/tenants')).filter((t) =>
    slugs ? slugs.includes(t.slug) : t.slug.startsWith('irin-canary-'),
  );
  assert.ok(
    canaries.length >= 3,
    `expected the run's canary tenants, found ${canaries.map((t) => t.slug).join(', ')}`,
  );
  for (const t of canaries) assert.equal(t.status, 'decommissioned', `${t.slug} is ${t.status}`);
  await waitFor("the canaries' storage to be removed", async () =>
    canaries.every((t) => !existsSync(join(dataDir, 'tenants', String(t.id)))) ? true : undefined,
  );
  return canaries;
}

describe('irin verify-isolation', () => {
  let dataDir: string;
  let irin: IrinProcess;

  before(async () => {
    dataDir = tempDir('irin-verify-');
    // `irin serve` as the README starts it (npm start runs bin/irin.mjs serve), default settings.
    irin = await spawnIrin(dataDir);
  });
  after(async () => {
    irin?.child.kill('SIGTERM');
    if (irin) await exitOf(irin.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('passes against irin serve, prints every probe and leaves no canary behind', async () => {
    const created = await run(process.execPath, [
      'bin/irin.mjs',
      'admin-key',
      'create',
      '--name',
      'verify',
      '--data-dir',
      dataDir,
      '--json',
    ]);
    const adminKey = (JSON.parse(created.stdout) as { token: string }).token;

    const result = await run(process.execPath, ['bin/irin.mjs', 'verify-isolation', '--url', irin.url], {
      env: { ...process.env, IRIN_ADMIN_KEY: adminKey },
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    const out = result.stdout;
    assert.equal('code' in result ? result.code : 0, 0, `verify-isolation failed:\n${out}\n${result.stderr}`);
    assert.match(out, /ISOLATION VERIFIED: \d+ contained, 0 breached, 0 could not run/);
    assert.match(out, /^PASS +promql\.regex-any-tenant/m);
    assert.match(out, /^PASS +write\.forged-tenant/m);
    assert.match(out, /^PASS +logql\.regex-line-filter/m, 'the Loki probes ran');
    assert.doesNotMatch(out, /^FAIL/m);
    assert.ok(!out.includes(adminKey.split('.')[1]!), 'the admin secret is never printed');

    await assertCanariesGone(irin.url, adminKey, dataDir);
  });

  test('a usage error without an admin key exits 2', async () => {
    const err = await run(process.execPath, ['bin/irin.mjs', 'verify-isolation', '--url', irin.url], {
      env: { ...process.env, IRIN_ADMIN_KEY: '' },
    }).catch((e: { code: number; stderr: string }) => e);
    assert.equal('code' in err ? err.code : 0, 2);
    assert.match(err.stderr, /needs a platform admin key/);
  });
});

describe('verify-isolation against a server with a layer missing', () => {
  test('reports the breaches, fails, and still decommissions its canaries', async () => {
    // The server under test has query injection and partitions switched off (test-only faults);
    // verify-isolation itself runs unchanged against it.
    const target = await startIsolationTarget(['query-injection', 'partitions']);
    try {
      const adminKey = await createAdminKey(target.irin.dataDir);
      const report = await verifyIsolation({ url: target.irin.url, adminKey });
      assert.equal(report.ok, false);
      assert.ok(report.breaches >= 10, `expected the read probes to breach, got ${report.breaches}`);
      assert.equal(report.results.find((r) => r.id === 'promql.regex-any-tenant')?.status, 'BREACH');
      assert.deepEqual(report.cleanupProblems, []);
      await assertCanariesGone(target.irin.url, adminKey, target.irin.dataDir, report.canaries);
    } finally {
      await target.close();
    }
  });
});
