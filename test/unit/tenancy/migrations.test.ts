import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { CURRENT_SCHEMA_VERSION, migrate, schemaVersion } from '../../../src/tenancy/sqlite/migrations.ts';
import { CONTROL_PLANE_DB_FILE, INSTALL_KEYS_FILE } from '../../../src/tenancy/open.ts';
import { loadOrCreateInstallKeys } from '../../../src/auth/install-keys.ts';
import { SecretHasher } from '../../../src/auth/credentials.ts';
import { addEndpoint } from '../../../src/tenancy/services/endpoints.ts';
import { createUser } from '../../../src/tenancy/services/users.ts';
import { openTestPlane, tempDir } from './fixtures.ts';

test('a database made by schema version 1 opens and upgrades, keeping its data', async () => {
  const dir = tempDir();
  try {
    const hasher = new SecretHasher(loadOrCreateInstallKeys(join(dir, INSTALL_KEYS_FILE)).pepper);
    // Build a version-1 database the way an Irin of that version did, with data in it.
    const old = new Database(join(dir, CONTROL_PLANE_DB_FILE));
    old.pragma('journal_mode = WAL');
    assert.equal(migrate(old, 1), 1);
    assert.equal(old.prepare(`SELECT 1 FROM sqlite_master WHERE name = 'users'`).get(), undefined);
    const now = Date.now();
    old
      .prepare(
        `INSERT INTO tenants (slug, display_name, status, created_at, updated_at) VALUES ('acme', 'Acme', 'active', ?, ?)`,
      )
      .run(now, now);
    old.prepare(`INSERT INTO servers (tenant_id, name, created_at) VALUES (1, 'svr01', ?)`).run(now);
    const clientId = 'irin_push_abcdefghijklmnop';
    old
      .prepare(
        `INSERT INTO credentials (client_id, kind, tenant_id, server_id, name, secret_hash, created_at, created_by)
         VALUES (?, 'push', 1, 1, 'old', ?, ?, 'cli:old')`,
      )
      .run(clientId, hasher.hashCredentialSecret(clientId, 's'.repeat(43)), now);
    old.close();

    const p = await openTestPlane({ dataDir: dir });
    try {
      const db = new Database(join(dir, CONTROL_PLANE_DB_FILE), { readonly: true });
      assert.equal(schemaVersion(db), CURRENT_SCHEMA_VERSION);
      assert.deepEqual(
        (
          db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]
        ).map((r) => r.version),
        Array.from({ length: CURRENT_SCHEMA_VERSION }, (_, i) => i + 1),
      );
      db.close();
      const rec = await p.store.findCredentialForAuth(clientId);
      assert.equal(rec?.tenant?.slug, 'acme');
      assert.equal(rec?.server?.name, 'svr01');
      assert.ok(p.hasher.matches(p.hasher.hashCredentialSecret(clientId, 's'.repeat(43)), rec!.secretHash));
      // Tables of later versions work on the upgraded file.
      await createUser(p.ctx, { email: 'ops@acme.example', password: 'correct horse battery' });
      await addEndpoint(p.ctx, 'acme', { name: 'home', url: 'https://acme.example/' });
      assert.ok((await p.store.getChangeSeq('endpoints')) > 0);
    } finally {
      await p.cleanup();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database from a newer Irin is refused with a clear message', async () => {
  const dir = tempDir();
  try {
    const db = new Database(join(dir, CONTROL_PLANE_DB_FILE));
    migrate(db);
    db.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 0)`).run(
      CURRENT_SCHEMA_VERSION + 1,
    );
    db.close();
    await assert.rejects(openTestPlane({ dataDir: dir }), /newer than this Irin understands/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('migrating twice is a no-op', () => {
  const db = new Database(':memory:');
  assert.equal(migrate(db), CURRENT_SCHEMA_VERSION);
  assert.equal(migrate(db), CURRENT_SCHEMA_VERSION);
  assert.equal(
    (db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n,
    CURRENT_SCHEMA_VERSION,
  );
  db.close();
});
