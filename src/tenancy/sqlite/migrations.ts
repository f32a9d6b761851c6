import type Database from 'better-sqlite3';

/**
 * Versioned schema migrations. Each step runs once, in order, inside one IMMEDIATE transaction
 * together with its `schema_migrations` row, so a crash mid-way leaves the previous version intact
 * and two processes opening the same file at once cannot both apply a step.
 *
 * Never edit a released step: add a new one. Timestamps are integer milliseconds since the epoch.
 *
 * The `change_seq` rows are bumped by triggers on every change a cached credential or endpoint
 * list depends on, so a change made by any process (the CLI writing the file while the server
 * runs) is seen by a cheap poll of one row. Columns written on every request (last_used_at,
 * last_seen_at) are deliberately left out of the trigger column lists.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const bump = (topic: string): string => `UPDATE change_seq SET seq = seq + 1 WHERE topic = '${topic}';`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'tenants, servers, credentials, audit log',
    sql: `
      CREATE TABLE tenants (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slug TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'decommissioned')),
        limit_overrides TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        decommissioned_at INTEGER,
        storage_removed_at INTEGER
      );

      CREATE TABLE servers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id INTEGER NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        removed_at INTEGER,
        last_seen_at INTEGER,
        last_seen_addr TEXT
      );
      CREATE UNIQUE INDEX servers_live_name ON servers(tenant_id, name) WHERE removed_at IS NULL;

      CREATE TABLE credentials (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        client_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('push', 'read', 'admin')),
        tenant_id INTEGER REFERENCES tenants(id),
        server_id INTEGER REFERENCES servers(id),
        name TEXT NOT NULL DEFAULT '',
        role TEXT CHECK (role IS NULL OR role = 'viewer'),
        secret_hash BLOB NOT NULL,
        previous_secret_hash BLOB,
        previous_valid_until INTEGER,
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        expires_at INTEGER,
        revoked_at INTEGER,
        rotated_at INTEGER,
        last_used_at INTEGER,
        last_used_addr TEXT,
        CHECK ((kind = 'admin') = (tenant_id IS NULL)),
        CHECK (server_id IS NULL OR kind = 'push'),
        CHECK ((kind = 'read') = (role IS NOT NULL))
      );
      CREATE INDEX credentials_tenant ON credentials(tenant_id, kind);
      CREATE INDEX credentials_server ON credentials(server_id);

      CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        tenant_id INTEGER REFERENCES tenants(id),
        target TEXT,
        source_addr TEXT,
        details TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX audit_tenant_at ON audit_log(tenant_id, at);
      CREATE INDEX audit_at ON audit_log(at);

      CREATE TABLE change_seq (topic TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
      INSERT INTO change_seq (topic, seq) VALUES ('credentials', 0);

      CREATE TRIGGER tenants_changed AFTER UPDATE OF slug, status, limit_overrides ON tenants
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER servers_changed AFTER UPDATE OF name, removed_at, tenant_id ON servers
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER credentials_changed AFTER UPDATE OF client_id, kind, tenant_id, server_id, role,
        secret_hash, previous_secret_hash, previous_valid_until, expires_at, revoked_at ON credentials
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER credentials_deleted AFTER DELETE ON credentials
        BEGIN ${bump('credentials')} END;
    `,
  },
  {
    version: 2,
    name: 'users, MFA, memberships, console sessions',
    sql: `
      CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        email TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        platform_admin INTEGER NOT NULL DEFAULT 0 CHECK (platform_admin IN (0, 1)),
        totp_secret_sealed TEXT,
        totp_last_step INTEGER,
        mfa_enabled INTEGER NOT NULL DEFAULT 0 CHECK (mfa_enabled IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        CHECK (mfa_enabled = 0 OR totp_secret_sealed IS NOT NULL)
      );

      CREATE TABLE recovery_codes (
        user_id INTEGER NOT NULL REFERENCES users(id),
        code_hash BLOB NOT NULL,
        used_at INTEGER,
        PRIMARY KEY (user_id, code_hash)
      ) WITHOUT ROWID;

      CREATE TABLE memberships (
        tenant_id INTEGER NOT NULL REFERENCES tenants(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX memberships_user ON memberships(user_id);

      CREATE TABLE sessions (
        id_hash BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        tenant_id INTEGER REFERENCES tenants(id),
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        source_addr TEXT
      ) WITHOUT ROWID;
      CREATE INDEX sessions_user ON sessions(user_id);
      CREATE INDEX sessions_expiry ON sessions(expires_at);

      CREATE TRIGGER users_changed AFTER UPDATE OF email, platform_admin, mfa_enabled, password_hash ON users
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER memberships_changed AFTER UPDATE OF role ON memberships
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER memberships_deleted AFTER DELETE ON memberships
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER sessions_changed AFTER UPDATE OF tenant_id, expires_at ON sessions
        BEGIN ${bump('credentials')} END;
      CREATE TRIGGER sessions_deleted AFTER DELETE ON sessions
        BEGIN ${bump('credentials')} END;
    `,
  },
  {
    version: 3,
    name: 'probe endpoints, push rejections',
    sql: `
      CREATE TABLE endpoints (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id INTEGER NOT NULL REFERENCES tenants(id),
        name TEXT NOT NULL,
        url TEXT NOT NULL,
        method TEXT NOT NULL,
        interval_seconds INTEGER NOT NULL CHECK (interval_seconds >= 10),
        timeout_seconds INTEGER NOT NULL CHECK (timeout_seconds >= 1),
        expected_status TEXT NOT NULL DEFAULT '[]',
        body_match TEXT,
        tls_verify INTEGER NOT NULL CHECK (tls_verify IN (0, 1)),
        follow_redirects INTEGER NOT NULL CHECK (follow_redirects IN (0, 1)),
        headers TEXT NOT NULL DEFAULT '[]',
        enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        UNIQUE (tenant_id, name)
      );

      CREATE TABLE push_rejections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant_id INTEGER NOT NULL REFERENCES tenants(id),
        server_id INTEGER REFERENCES servers(id),
        client_id TEXT,
        status INTEGER NOT NULL,
        reason TEXT NOT NULL,
        source_addr TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX push_rejections_scope ON push_rejections(tenant_id, server_id, id);

      INSERT INTO change_seq (topic, seq) VALUES ('endpoints', 0);
      CREATE TRIGGER endpoints_inserted AFTER INSERT ON endpoints BEGIN ${bump('endpoints')} END;
      CREATE TRIGGER endpoints_updated AFTER UPDATE ON endpoints BEGIN ${bump('endpoints')} END;
      CREATE TRIGGER endpoints_deleted AFTER DELETE ON endpoints BEGIN ${bump('endpoints')} END;
      CREATE TRIGGER endpoints_tenant_status AFTER UPDATE OF status ON tenants BEGIN ${bump('endpoints')} END;
    `,
  },
];

export const CURRENT_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function schemaVersion(db: Database.Database): number {
  const exists = db
    .prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`)
    .get();
  if (!exists) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Brings the database up to `target` (default: the newest step). Refuses a database written by a
 * newer Irin, whose schema this code does not know.
 */
export function migrate(db: Database.Database, target = CURRENT_SCHEMA_VERSION, now = Date.now()): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const apply = db.transaction((m: Migration) => {
    // Re-checked inside the write transaction: another process may have applied it meanwhile.
    if (db.prepare('SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
    db.exec(m.sql);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      m.version,
      m.name,
      now,
    );
  });
  const found = schemaVersion(db);
  if (found > CURRENT_SCHEMA_VERSION) {
    throw new Error(
      `control-plane database schema version ${found} is newer than this Irin understands (${CURRENT_SCHEMA_VERSION}); run a newer Irin`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version > target) break;
    if (m.version > found) apply.immediate(m);
  }
  return schemaVersion(db);
}
