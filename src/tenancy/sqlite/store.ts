import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SecretBox } from '../../auth/install-keys.ts';
import { sanitizeAuditDetails } from '../audit-details.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import type {
  AuditActor,
  AuditEntry,
  AuditQuery,
  ChangeTopic,
  ControlPlaneStore,
  Credential,
  CredentialAuthRecord,
  CredentialScope,
  CredentialUse,
  DecommissionResult,
  Endpoint,
  EndpointHeaderInput,
  EndpointInput,
  Membership,
  MembershipChange,
  NewAuditEntry,
  NewCredential,
  NewCredentialSecret,
  NewPushRejection,
  NewSession,
  NewTenant,
  NewUser,
  ProbeEndpoint,
  PushRejection,
  Server,
  Session,
  Tenant,
  TenantPatch,
  TenantStatus,
  User,
  UserCredentials,
  BodyMatch,
  HttpMethod,
} from '../store.ts';
import type { Role } from '../validation.ts';
import { isUniqueViolation, mapSqliteError } from './errors.ts';
import { migrate } from './migrations.ts';
import {
  CREDENTIAL_SELECT,
  MEMBERSHIP_SELECT,
  iso,
  toAuditEntry,
  toCredential,
  toMembership,
  toMs,
  toPushRejection,
  toServer,
  toSession,
  toTenant,
  toUser,
  type AuditRow,
  type CredentialRow,
  type EndpointRow,
  type MembershipRow,
  type PushRejectionRow,
  type ServerRow,
  type SessionRow,
  type StoredHeader,
  type TenantRow,
  type UserRow,
} from './rows.ts';

export interface SqliteStoreOptions {
  /** The database file; its directory is created if needed. */
  path: string;
  /** Encrypts TOTP seeds and secret probe-header values at rest. */
  secretBox: SecretBox;
  /** How long a statement waits for another process's write lock before giving up (ms). */
  busyTimeoutMs?: number;
  /** Push rejections kept per tenant and server (default 50). */
  pushRejectionsKept?: number;
  /** Clock, for tests. */
  now?: () => number;
}

type Db = Database.Database;

const DEFAULT_AUDIT_LIMIT = 100;
const MAX_AUDIT_LIMIT = 10_000;

/**
 * The SQLite control-plane store. WAL mode lets the server keep reading while the CLI writes the
 * same file; `busy_timeout` makes a writer wait briefly for another one instead of failing.
 *
 * The connection opens lazily and a failed open is retried on the next call, so a database that is
 * briefly unavailable at start-up yields StoreUnavailableError (503 on the push path) rather than a
 * dead process. Call `ready()` to open eagerly and fail fast.
 */
export class SqliteControlPlaneStore implements ControlPlaneStore {
  readonly #options: Required<Omit<SqliteStoreOptions, 'secretBox'>>;
  readonly #box: SecretBox;
  #db: Db | undefined;
  #closed = false;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(options: SqliteStoreOptions) {
    this.#options = {
      path: options.path,
      busyTimeoutMs: options.busyTimeoutMs ?? 5000,
      pushRejectionsKept: options.pushRejectionsKept ?? 50,
      now: options.now ?? Date.now,
    };
    this.#box = options.secretBox;
  }

  get path(): string {
    return this.#options.path;
  }

  // ---- plumbing -------------------------------------------------------------------------------

  #connection(): Db {
    if (this.#db) return this.#db;
    if (this.#closed) throw new TypeError('The database connection is not open');
    mkdirSync(dirname(this.#options.path), { recursive: true });
    const db = new Database(this.#options.path, { timeout: this.#options.busyTimeoutMs });
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, undefined, this.#options.now());
    } catch (err) {
      db.close();
      throw err;
    }
    this.#db = db;
    return db;
  }

  #stmt(sql: string): Database.Statement {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#connection().prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #get<T>(sql: string, ...params: unknown[]): T | undefined {
    return this.#stmt(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: unknown[]): T[] {
    return this.#stmt(sql).all(...params) as T[];
  }

  #run(sql: string, ...params: unknown[]): Database.RunResult {
    return this.#stmt(sql).run(...params);
  }

  /** Runs `fn` (synchronously, as better-sqlite3 is) and maps failures to control-plane errors. */
  async #do<T>(fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (err) {
      throw mapSqliteError(err);
    }
  }

  /** Runs `fn` in an IMMEDIATE write transaction (takes the write lock up front: no upgrade deadlock). */
  async #write<T>(fn: () => T): Promise<T> {
    return this.#do(() => this.#connection().transaction(fn).immediate());
  }

  #now(): number {
    return this.#options.now();
  }

  #audit(
    by: AuditActor,
    action: string,
    tenantId: number | null,
    target: string | null,
    details?: object,
  ): void {
    this.#insertAudit({
      actor: by.actor,
      sourceAddr: by.sourceAddr,
      action,
      tenantId,
      target,
      details: details as Record<string, unknown> | undefined,
    });
  }

  #insertAudit(e: NewAuditEntry): void {
    this.#run(
      `INSERT INTO audit_log (at, actor, action, tenant_id, target, source_addr, details) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      e.at !== undefined ? toMs(e.at) : this.#now(),
      e.actor,
      e.action,
      e.tenantId,
      e.target,
      e.sourceAddr,
      JSON.stringify(sanitizeAuditDetails(e.details)),
    );
  }

  async ready(): Promise<void> {
    await this.#do(() => this.#connection());
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#statements.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  async getChangeSeq(topic: ChangeTopic): Promise<number> {
    return this.#do(
      () => this.#get<{ seq: number }>('SELECT seq FROM change_seq WHERE topic = ?', topic)?.seq ?? 0,
    );
  }

  // ---- tenants ----------------------------------------------------------------------------------

  #tenant(tenantId: number): Tenant | undefined {
    const row = this.#get<TenantRow>('SELECT * FROM tenants WHERE id = ?', tenantId);
    return row && toTenant(row);
  }

  async createTenant(input: NewTenant, by: AuditActor): Promise<Tenant> {
    return this.#write(() => {
      const existing = this.#get<TenantRow>('SELECT * FROM tenants WHERE slug = ?', input.slug);
      if (existing) {
        throw new ConflictError(
          existing.status === 'decommissioned'
            ? `slug "${input.slug}" belonged to a decommissioned tenant; slugs are never reused`
            : `tenant "${input.slug}" already exists`,
        );
      }
      const now = this.#now();
      const { lastInsertRowid } = this.#run(
        `INSERT INTO tenants (slug, display_name, status, limit_overrides, created_at, updated_at)
         VALUES (?, ?, 'active', ?, ?, ?)`,
        input.slug,
        input.displayName,
        JSON.stringify(input.limitOverrides ?? {}),
        now,
        now,
      );
      const id = Number(lastInsertRowid);
      this.#audit(by, 'tenant.create', id, input.slug, {
        displayName: input.displayName,
        limitOverrides: input.limitOverrides ?? {},
      });
      return this.#tenant(id)!;
    });
  }

  async getTenant(tenantId: number): Promise<Tenant | undefined> {
    return this.#do(() => this.#tenant(tenantId));
  }

  async getTenantBySlug(slug: string): Promise<Tenant | undefined> {
    return this.#do(() => {
      const row = this.#get<TenantRow>('SELECT * FROM tenants WHERE slug = ?', slug);
      return row && toTenant(row);
    });
  }

  async listTenants(filter?: { status?: TenantStatus }): Promise<Tenant[]> {
    return this.#do(() =>
      (filter?.status
        ? this.#all<TenantRow>('SELECT * FROM tenants WHERE status = ? ORDER BY slug', filter.status)
        : this.#all<TenantRow>('SELECT * FROM tenants ORDER BY slug')
      ).map(toTenant),
    );
  }

  async updateTenant(tenantId: number, patch: TenantPatch, by: AuditActor): Promise<Tenant | undefined> {
    return this.#write(() => {
      const before = this.#tenant(tenantId);
      if (!before) return undefined;
      if (before.status === 'decommissioned')
        throw new ConflictError(`tenant "${before.slug}" is decommissioned`);
      const displayName = patch.displayName ?? before.displayName;
      const overrides = patch.limitOverrides ?? before.limitOverrides;
      this.#run(
        'UPDATE tenants SET display_name = ?, limit_overrides = ?, updated_at = ? WHERE id = ?',
        displayName,
        JSON.stringify(overrides),
        this.#now(),
        tenantId,
      );
      this.#audit(by, 'tenant.update', tenantId, before.slug, {
        ...(patch.displayName !== undefined ? { displayName } : {}),
        ...(patch.limitOverrides !== undefined
          ? { limitOverrides: overrides, previousLimitOverrides: before.limitOverrides }
          : {}),
      });
      return this.#tenant(tenantId);
    });
  }

  async setTenantStatus(
    tenantId: number,
    status: 'active' | 'suspended',
    by: AuditActor,
  ): Promise<Tenant | undefined> {
    return this.#write(() => {
      const before = this.#tenant(tenantId);
      if (!before) return undefined;
      if (before.status === 'decommissioned')
        throw new ConflictError(`tenant "${before.slug}" is decommissioned`);
      if (before.status === status) return before;
      this.#run('UPDATE tenants SET status = ?, updated_at = ? WHERE id = ?', status, this.#now(), tenantId);
      this.#audit(by, status === 'suspended' ? 'tenant.suspend' : 'tenant.resume', tenantId, before.slug);
      return this.#tenant(tenantId);
    });
  }

  async decommissionTenant(tenantId: number, by: AuditActor): Promise<DecommissionResult | undefined> {
    return this.#write(() => {
      const before = this.#tenant(tenantId);
      if (!before) return undefined;
      if (before.status === 'decommissioned') {
        throw new ConflictError(`tenant "${before.slug}" is already decommissioned`);
      }
      const now = this.#now();
      this.#run(
        `UPDATE tenants SET status = 'decommissioned', decommissioned_at = ?, updated_at = ? WHERE id = ?`,
        now,
        now,
        tenantId,
      );
      const revoked = this.#run(
        'UPDATE credentials SET revoked_at = ? WHERE tenant_id = ? AND revoked_at IS NULL',
        now,
        tenantId,
      ).changes;
      const ended = this.#run('DELETE FROM sessions WHERE tenant_id = ?', tenantId).changes;
      this.#audit(by, 'tenant.decommission', tenantId, before.slug, {
        revokedCredentials: revoked,
        endedSessions: ended,
      });
      return { tenant: this.#tenant(tenantId)!, revokedCredentials: revoked, endedSessions: ended };
    });
  }

  async listTenantsAwaitingStorageRemoval(): Promise<Tenant[]> {
    return this.#do(() =>
      this.#all<TenantRow>(
        `SELECT * FROM tenants WHERE status = 'decommissioned' AND storage_removed_at IS NULL ORDER BY id`,
      ).map(toTenant),
    );
  }

  async markTenantStorageRemoved(tenantId: number, by: AuditActor): Promise<void> {
    await this.#write(() => {
      const t = this.#tenant(tenantId);
      if (!t) throw new NotFoundError(`tenant ${tenantId} not found`);
      if (t.status !== 'decommissioned') throw new ConflictError(`tenant "${t.slug}" is not decommissioned`);
      if (t.storageRemovedAt !== null) return;
      this.#run('UPDATE tenants SET storage_removed_at = ? WHERE id = ?', this.#now(), tenantId);
      this.#audit(by, 'tenant.storage-removed', tenantId, t.slug);
    });
  }

  // ---- servers ----------------------------------------------------------------------------------

  #liveServer(tenantId: number, serverId: number): Server | undefined {
    const row = this.#get<ServerRow>(
      'SELECT * FROM servers WHERE id = ? AND tenant_id = ? AND removed_at IS NULL',
      serverId,
      tenantId,
    );
    return row && toServer(row);
  }

  async addServer(
    tenantId: number,
    input: { name: string; token?: NewCredentialSecret },
    by: AuditActor,
  ): Promise<{ server: Server; token?: Credential }> {
    return this.#write(() => {
      const tenant = this.#requireLiveTenant(tenantId);
      let serverId: number;
      try {
        serverId = Number(
          this.#run(
            'INSERT INTO servers (tenant_id, name, created_at) VALUES (?, ?, ?)',
            tenantId,
            input.name,
            this.#now(),
          ).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err)) {
          throw new ConflictError(`server "${input.name}" already exists in tenant "${tenant.slug}"`);
        }
        throw err;
      }
      this.#audit(by, 'server.add', tenantId, input.name, { serverId });
      const server = this.#liveServer(tenantId, serverId)!;
      if (!input.token) return { server };
      const token = this.#insertCredential({ ...input.token, kind: 'push', tenantId, serverId }, by);
      return { server, token };
    });
  }

  async getServerByName(tenantId: number, name: string): Promise<Server | undefined> {
    return this.#do(() => {
      const row = this.#get<ServerRow>(
        'SELECT * FROM servers WHERE tenant_id = ? AND name = ? AND removed_at IS NULL',
        tenantId,
        name,
      );
      return row && toServer(row);
    });
  }

  async getServer(tenantId: number, serverId: number): Promise<Server | undefined> {
    return this.#do(() => this.#liveServer(tenantId, serverId));
  }

  async listServers(tenantId: number): Promise<Server[]> {
    return this.#do(() =>
      this.#all<ServerRow>(
        'SELECT * FROM servers WHERE tenant_id = ? AND removed_at IS NULL ORDER BY name',
        tenantId,
      ).map(toServer),
    );
  }

  async removeServer(
    tenantId: number,
    serverId: number,
    by: AuditActor,
  ): Promise<{ revokedTokens: number } | undefined> {
    return this.#write(() => {
      const server = this.#liveServer(tenantId, serverId);
      if (!server) return undefined;
      const now = this.#now();
      this.#run('UPDATE servers SET removed_at = ? WHERE id = ? AND tenant_id = ?', now, serverId, tenantId);
      const revokedTokens = this.#run(
        'UPDATE credentials SET revoked_at = ? WHERE tenant_id = ? AND server_id = ? AND revoked_at IS NULL',
        now,
        tenantId,
        serverId,
      ).changes;
      this.#audit(by, 'server.remove', tenantId, server.name, { serverId, revokedTokens });
      return { revokedTokens };
    });
  }

  #requireLiveTenant(tenantId: number): Tenant {
    const tenant = this.#tenant(tenantId);
    if (!tenant) throw new NotFoundError(`tenant ${tenantId} not found`);
    if (tenant.status === 'decommissioned')
      throw new ConflictError(`tenant "${tenant.slug}" is decommissioned`);
    return tenant;
  }

  // ---- credentials ------------------------------------------------------------------------------

  /** SQL condition + parameters selecting one credential scope (tenant-owned kinds filter by tenant). */
  #scopeWhere(scope: CredentialScope): { where: string; params: unknown[] } {
    return scope.kind === 'admin'
      ? { where: `c.kind = 'admin' AND c.tenant_id IS NULL`, params: [] }
      : { where: 'c.kind = ? AND c.tenant_id = ?', params: [scope.kind, scope.tenantId] };
  }

  #credential(scope: CredentialScope, clientId: string): Credential | undefined {
    const { where, params } = this.#scopeWhere(scope);
    const row = this.#get<CredentialRow>(
      `${CREDENTIAL_SELECT} WHERE ${where} AND c.client_id = ?`,
      ...params,
      clientId,
    );
    return row && toCredential(row);
  }

  #insertCredential(input: NewCredential, by: AuditActor): Credential {
    const tenantId = input.kind === 'admin' ? null : input.tenantId;
    const serverId = input.kind === 'push' ? (input.serverId ?? null) : null;
    if (tenantId !== null) this.#requireLiveTenant(tenantId);
    if (tenantId !== null && serverId !== null && !this.#liveServer(tenantId, serverId)) {
      throw new NotFoundError(`server ${serverId} not found in tenant ${tenantId}`);
    }
    try {
      this.#run(
        `INSERT INTO credentials (client_id, kind, tenant_id, server_id, name, role, secret_hash, created_at, created_by, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        input.clientId,
        input.kind,
        tenantId,
        serverId,
        input.name,
        input.kind === 'read' ? input.role : null,
        input.secretHash,
        this.#now(),
        by.actor,
        toMs(input.expiresAt),
      );
    } catch (err) {
      if (isUniqueViolation(err)) throw new ConflictError(`credential ${input.clientId} already exists`);
      throw err;
    }
    this.#audit(
      by,
      `${input.kind === 'push' ? 'token' : input.kind === 'read' ? 'apikey' : 'admin-key'}.create`,
      tenantId,
      input.clientId,
      {
        name: input.name,
        serverId,
        expiresAt: input.expiresAt ?? null,
      },
    );
    const scope: CredentialScope =
      tenantId === null ? { kind: 'admin' } : { kind: input.kind as 'push' | 'read', tenantId };
    return this.#credential(scope, input.clientId)!;
  }

  async createCredential(input: NewCredential, by: AuditActor): Promise<Credential> {
    return this.#write(() => this.#insertCredential(input, by));
  }

  async listCredentials(scope: CredentialScope): Promise<Credential[]> {
    return this.#do(() => {
      const { where, params } = this.#scopeWhere(scope);
      return this.#all<CredentialRow>(`${CREDENTIAL_SELECT} WHERE ${where} ORDER BY c.id`, ...params).map(
        toCredential,
      );
    });
  }

  async getCredential(scope: CredentialScope, clientId: string): Promise<Credential | undefined> {
    return this.#do(() => this.#credential(scope, clientId));
  }

  async revokeCredential(
    scope: CredentialScope,
    clientId: string,
    by: AuditActor,
  ): Promise<Credential | undefined> {
    return this.#write(() => {
      const before = this.#credential(scope, clientId);
      if (!before || before.revokedAt !== null) return before;
      const { where, params } = this.#scopeWhere(scope);
      this.#run(
        `UPDATE credentials AS c SET revoked_at = ? WHERE ${where} AND c.client_id = ?`,
        this.#now(),
        ...params,
        clientId,
      );
      this.#audit(by, `${auditNoun(before.kind)}.revoke`, before.tenantId, clientId, { name: before.name });
      return this.#credential(scope, clientId);
    });
  }

  async rotateCredential(
    scope: CredentialScope,
    clientId: string,
    rotation: { secretHash: Buffer; previousValidUntil?: string },
    by: AuditActor,
  ): Promise<Credential | undefined> {
    return this.#write(() => {
      const before = this.#credential(scope, clientId);
      if (!before) return undefined;
      if (before.revokedAt !== null)
        throw new ConflictError(`credential ${clientId} is revoked and cannot be rotated`);
      const graceUntil = toMs(rotation.previousValidUntil);
      const { where, params } = this.#scopeWhere(scope);
      this.#run(
        `UPDATE credentials AS c SET
           previous_secret_hash = CASE WHEN ? IS NULL THEN NULL ELSE secret_hash END,
           previous_valid_until = ?, secret_hash = ?, rotated_at = ?
         WHERE ${where} AND c.client_id = ?`,
        graceUntil,
        graceUntil,
        rotation.secretHash,
        this.#now(),
        ...params,
        clientId,
      );
      this.#audit(by, `${auditNoun(before.kind)}.rotate`, before.tenantId, clientId, {
        previousValidUntil: rotation.previousValidUntil ?? null,
      });
      return this.#credential(scope, clientId);
    });
  }

  async findCredentialForAuth(clientId: string): Promise<CredentialAuthRecord | undefined> {
    return this.#do(() =>
      // One deferred transaction: credential, tenant and server come from the same snapshot.
      this.#connection().transaction(() => {
        const row = this.#get<CredentialRow>(`${CREDENTIAL_SELECT} WHERE c.client_id = ?`, clientId);
        if (!row) return undefined;
        const tenant = row.tenant_id === null ? null : (this.#tenant(row.tenant_id) ?? null);
        const serverRow =
          row.server_id === null
            ? undefined
            : this.#get<ServerRow>(
                'SELECT * FROM servers WHERE id = ? AND tenant_id = ?',
                row.server_id,
                row.tenant_id,
              );
        return {
          ...toCredential(row),
          secretHash: row.secret_hash,
          previousSecretHash: row.previous_secret_hash,
          tenant,
          server: serverRow ? { ...toServer(serverRow), removed: serverRow.removed_at !== null } : null,
        };
      })(),
    );
  }

  async recordCredentialUse(uses: readonly CredentialUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.#write(() => {
      for (const use of uses) {
        const at = toMs(use.at);
        this.#run(
          `UPDATE credentials SET last_used_at = ?, last_used_addr = ?
           WHERE client_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
          at,
          use.addr,
          use.clientId,
          at,
        );
        this.#run(
          `UPDATE servers SET last_seen_at = ?, last_seen_addr = ?
           WHERE id = (SELECT server_id FROM credentials WHERE client_id = ?)
             AND (last_seen_at IS NULL OR last_seen_at <= ?)`,
          at,
          use.addr,
          use.clientId,
          at,
        );
      }
    });
  }

  // ---- users ------------------------------------------------------------------------------------

  #userRow(userId: number): UserRow | undefined {
    return this.#get<UserRow>('SELECT * FROM users WHERE id = ?', userId);
  }

  async createUser(input: NewUser, by: AuditActor): Promise<User> {
    return this.#write(() => {
      const now = this.#now();
      let id: number;
      try {
        id = Number(
          this.#run(
            `INSERT INTO users (email, display_name, password_hash, platform_admin, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?)`,
            input.email,
            input.displayName,
            input.passwordHash,
            input.platformAdmin ? 1 : 0,
            now,
            now,
          ).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new ConflictError(`user "${input.email}" already exists`);
        throw err;
      }
      this.#audit(by, 'user.create', null, input.email, { userId: id, platformAdmin: input.platformAdmin });
      return toUser(this.#userRow(id)!);
    });
  }

  async getUser(userId: number): Promise<User | undefined> {
    return this.#do(() => {
      const row = this.#userRow(userId);
      return row && toUser(row);
    });
  }

  async getUserByEmail(email: string): Promise<User | undefined> {
    return this.#do(() => {
      const row = this.#get<UserRow>('SELECT * FROM users WHERE email = ?', email);
      return row && toUser(row);
    });
  }

  async listUsers(): Promise<User[]> {
    return this.#do(() => this.#all<UserRow>('SELECT * FROM users ORDER BY email').map(toUser));
  }

  async getUserCredentials(userId: number): Promise<UserCredentials | undefined> {
    return this.#do(() => {
      const row = this.#userRow(userId);
      if (!row) return undefined;
      const unused = this.#get<{ n: number }>(
        'SELECT COUNT(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL',
        userId,
      )!.n;
      return {
        user: toUser(row),
        passwordHash: row.password_hash,
        totpSecret:
          row.totp_secret_sealed === null
            ? null
            : this.#box.open(row.totp_secret_sealed, totpContext(userId)),
        totpLastStep: row.totp_last_step,
        unusedRecoveryCodes: unused,
      };
    });
  }

  /** Runs one UPDATE on a user and audits it; false when the user does not exist. */
  #updateUser(
    userId: number,
    by: AuditActor,
    action: string,
    sql: string,
    params: unknown[],
    details?: object,
  ): boolean {
    const row = this.#userRow(userId);
    if (!row) return false;
    this.#run(sql, ...params, this.#now(), userId);
    this.#audit(by, action, null, row.email, { userId, ...details });
    return true;
  }

  async setUserPassword(userId: number, passwordHash: string, by: AuditActor): Promise<boolean> {
    return this.#write(() =>
      this.#updateUser(
        userId,
        by,
        'user.set-password',
        'UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?',
        [passwordHash],
      ),
    );
  }

  async setPlatformAdmin(userId: number, platformAdmin: boolean, by: AuditActor): Promise<boolean> {
    return this.#write(() =>
      this.#updateUser(
        userId,
        by,
        'user.set-platform-admin',
        'UPDATE users SET platform_admin = ?, updated_at = ? WHERE id = ?',
        [platformAdmin ? 1 : 0],
        { platformAdmin },
      ),
    );
  }

  async beginMfaEnrolment(userId: number, totpSecret: string, by: AuditActor): Promise<boolean> {
    return this.#write(() => {
      const row = this.#userRow(userId);
      if (!row) return false;
      if (row.mfa_enabled === 1) {
        throw new ConflictError(`user "${row.email}" already has MFA enabled; reset it first to enrol again`);
      }
      this.#run('DELETE FROM recovery_codes WHERE user_id = ?', userId);
      return this.#updateUser(
        userId,
        by,
        'user.mfa-enrol',
        'UPDATE users SET totp_secret_sealed = ?, totp_last_step = NULL, updated_at = ? WHERE id = ?',
        [this.#box.seal(totpSecret, totpContext(userId))],
      );
    });
  }

  async completeMfaEnrolment(
    userId: number,
    recoveryCodeHashes: readonly Buffer[],
    by: AuditActor,
  ): Promise<boolean> {
    return this.#write(() => {
      const row = this.#userRow(userId);
      if (!row) return false;
      if (row.totp_secret_sealed === null)
        throw new ConflictError(`user "${row.email}" has no MFA enrolment in progress`);
      this.#run('DELETE FROM recovery_codes WHERE user_id = ?', userId);
      for (const h of recoveryCodeHashes) {
        this.#run('INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)', userId, h);
      }
      return this.#updateUser(
        userId,
        by,
        'user.mfa-enable',
        'UPDATE users SET mfa_enabled = 1, updated_at = ? WHERE id = ?',
        [],
        { recoveryCodes: recoveryCodeHashes.length },
      );
    });
  }

  async resetMfa(userId: number, by: AuditActor): Promise<boolean> {
    return this.#write(() => {
      if (!this.#userRow(userId)) return false;
      this.#run('DELETE FROM recovery_codes WHERE user_id = ?', userId);
      const ended = this.#run('DELETE FROM sessions WHERE user_id = ?', userId).changes;
      return this.#updateUser(
        userId,
        by,
        'user.mfa-reset',
        'UPDATE users SET totp_secret_sealed = NULL, totp_last_step = NULL, mfa_enabled = 0, updated_at = ? WHERE id = ?',
        [],
        { endedSessions: ended },
      );
    });
  }

  async consumeRecoveryCode(userId: number, codeHash: Buffer): Promise<boolean> {
    return this.#write(
      () =>
        this.#run(
          'UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL',
          this.#now(),
          userId,
          codeHash,
        ).changes === 1,
    );
  }

  async recordTotpStep(userId: number, step: number): Promise<boolean> {
    return this.#write(
      () =>
        this.#run(
          'UPDATE users SET totp_last_step = ? WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)',
          step,
          userId,
          step,
        ).changes === 1,
    );
  }

  #membership(tenantId: number, userId: number): Membership | undefined {
    const row = this.#get<MembershipRow>(
      `${MEMBERSHIP_SELECT} WHERE m.tenant_id = ? AND m.user_id = ?`,
      tenantId,
      userId,
    );
    return row && toMembership(row);
  }

  async setMembership(
    tenantId: number,
    userId: number,
    role: Role,
    by: AuditActor,
  ): Promise<MembershipChange> {
    return this.#write(() => {
      const tenant = this.#requireLiveTenant(tenantId);
      const user = this.#userRow(userId);
      if (!user) throw new NotFoundError(`user ${userId} not found`);
      const before = this.#membership(tenantId, userId);
      const now = this.#now();
      if (before) {
        this.#run(
          'UPDATE memberships SET role = ?, updated_at = ? WHERE tenant_id = ? AND user_id = ?',
          role,
          now,
          tenantId,
          userId,
        );
      } else {
        this.#run(
          'INSERT INTO memberships (tenant_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
          tenantId,
          userId,
          role,
          now,
          now,
        );
      }
      this.#audit(by, before ? 'membership.set-role' : 'membership.add', tenantId, user.email, {
        tenant: tenant.slug,
        role,
        previousRole: before?.role ?? null,
      });
      return { membership: this.#membership(tenantId, userId)!, previousRole: before?.role ?? null };
    });
  }

  async removeMembership(tenantId: number, userId: number, by: AuditActor): Promise<boolean> {
    return this.#write(() => {
      const before = this.#membership(tenantId, userId);
      if (!before) return false;
      this.#run('DELETE FROM memberships WHERE tenant_id = ? AND user_id = ?', tenantId, userId);
      this.#run('DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?', tenantId, userId);
      this.#audit(by, 'membership.remove', tenantId, before.userEmail, { role: before.role });
      return true;
    });
  }

  async getMembership(tenantId: number, userId: number): Promise<Membership | undefined> {
    return this.#do(() => this.#membership(tenantId, userId));
  }

  async listTenantMembers(tenantId: number): Promise<Membership[]> {
    return this.#do(() =>
      this.#all<MembershipRow>(`${MEMBERSHIP_SELECT} WHERE m.tenant_id = ? ORDER BY u.email`, tenantId).map(
        toMembership,
      ),
    );
  }

  async listUserMemberships(userId: number): Promise<Membership[]> {
    return this.#do(() =>
      this.#all<MembershipRow>(`${MEMBERSHIP_SELECT} WHERE m.user_id = ? ORDER BY t.slug`, userId).map(
        toMembership,
      ),
    );
  }

  // ---- sessions ---------------------------------------------------------------------------------

  async createSession(input: NewSession): Promise<void> {
    await this.#write(() => {
      this.#run(
        'INSERT INTO sessions (id_hash, user_id, tenant_id, created_at, expires_at, source_addr) VALUES (?, ?, ?, ?, ?, ?)',
        input.idHash,
        input.userId,
        input.tenantId,
        this.#now(),
        toMs(input.expiresAt),
        input.sourceAddr,
      );
    });
  }

  async getSession(idHash: Buffer): Promise<Session | undefined> {
    return this.#do(() => {
      const row = this.#get<SessionRow>('SELECT * FROM sessions WHERE id_hash = ?', idHash);
      return row && toSession(row);
    });
  }

  async setSessionTenant(idHash: Buffer, tenantId: number | null): Promise<boolean> {
    return this.#write(
      () => this.#run('UPDATE sessions SET tenant_id = ? WHERE id_hash = ?', tenantId, idHash).changes === 1,
    );
  }

  async deleteSession(idHash: Buffer): Promise<boolean> {
    return this.#write(() => this.#run('DELETE FROM sessions WHERE id_hash = ?', idHash).changes === 1);
  }

  async deleteUserSessions(userId: number): Promise<number> {
    return this.#write(() => this.#run('DELETE FROM sessions WHERE user_id = ?', userId).changes);
  }

  async deleteExpiredSessions(now: string): Promise<number> {
    return this.#write(() => this.#run('DELETE FROM sessions WHERE expires_at <= ?', toMs(now)).changes);
  }

  // ---- endpoints --------------------------------------------------------------------------------

  #endpointRow(tenantId: number, endpointId: number): EndpointRow | undefined {
    return this.#get<EndpointRow>(
      'SELECT * FROM endpoints WHERE id = ? AND tenant_id = ?',
      endpointId,
      tenantId,
    );
  }

  #toEndpoint(r: EndpointRow): Endpoint {
    return {
      ...endpointSettings(r),
      headers: (JSON.parse(r.headers) as StoredHeader[]).map((h) => ({
        name: h.name,
        value: h.secret ? null : (h.value ?? ''),
        secret: h.secret,
      })),
    };
  }

  /** Seals secret values; a secret header without a value keeps the sealed value stored before. */
  #storeHeaders(
    tenantId: number,
    headers: readonly EndpointHeaderInput[],
    previous: readonly StoredHeader[],
  ): string {
    const stored = headers.map((h): StoredHeader => {
      if (!h.secret) return { name: h.name, secret: false, value: h.value ?? '' };
      if (h.value !== undefined)
        return {
          name: h.name,
          secret: true,
          sealed: this.#box.seal(h.value, headerContext(tenantId, h.name)),
        };
      const kept = previous.find(
        (p) => p.secret && p.sealed && p.name.toLowerCase() === h.name.toLowerCase(),
      );
      if (!kept) throw new ValidationError(`secret header "${h.name}" needs a value (none is stored yet)`);
      return { name: h.name, secret: true, sealed: kept.sealed! };
    });
    return JSON.stringify(stored);
  }

  async createEndpoint(tenantId: number, input: EndpointInput, by: AuditActor): Promise<Endpoint> {
    return this.#write(() => {
      this.#requireLiveTenant(tenantId);
      const now = this.#now();
      let id: number;
      try {
        id = Number(
          this.#run(
            `INSERT INTO endpoints (tenant_id, name, url, method, interval_seconds, timeout_seconds, expected_status,
               body_match, tls_verify, follow_redirects, headers, enabled, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            tenantId,
            ...endpointColumns(input),
            this.#storeHeaders(tenantId, input.headers, []),
            input.enabled ? 1 : 0,
            now,
            now,
          ).lastInsertRowid,
        );
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`endpoint "${input.name}" already exists in this tenant`);
        throw err;
      }
      this.#audit(by, 'endpoint.create', tenantId, input.name, endpointAuditDetails(id, input));
      return this.#toEndpoint(this.#endpointRow(tenantId, id)!);
    });
  }

  async getEndpointByName(tenantId: number, name: string): Promise<Endpoint | undefined> {
    return this.#do(() => {
      const row = this.#get<EndpointRow>(
        'SELECT * FROM endpoints WHERE tenant_id = ? AND name = ?',
        tenantId,
        name,
      );
      return row && this.#toEndpoint(row);
    });
  }

  async listEndpoints(tenantId: number): Promise<Endpoint[]> {
    return this.#do(() =>
      this.#all<EndpointRow>('SELECT * FROM endpoints WHERE tenant_id = ? ORDER BY name', tenantId).map((r) =>
        this.#toEndpoint(r),
      ),
    );
  }

  async updateEndpoint(
    tenantId: number,
    endpointId: number,
    input: EndpointInput,
    by: AuditActor,
  ): Promise<Endpoint | undefined> {
    return this.#write(() => {
      const before = this.#endpointRow(tenantId, endpointId);
      if (!before) return undefined;
      this.#requireLiveTenant(tenantId);
      try {
        this.#run(
          `UPDATE endpoints SET name = ?, url = ?, method = ?, interval_seconds = ?, timeout_seconds = ?,
             expected_status = ?, body_match = ?, tls_verify = ?, follow_redirects = ?, headers = ?, enabled = ?,
             updated_at = ?
           WHERE id = ? AND tenant_id = ?`,
          ...endpointColumns(input),
          this.#storeHeaders(tenantId, input.headers, JSON.parse(before.headers) as StoredHeader[]),
          input.enabled ? 1 : 0,
          this.#now(),
          endpointId,
          tenantId,
        );
      } catch (err) {
        if (isUniqueViolation(err))
          throw new ConflictError(`endpoint "${input.name}" already exists in this tenant`);
        throw err;
      }
      this.#audit(by, 'endpoint.update', tenantId, input.name, endpointAuditDetails(endpointId, input));
      return this.#toEndpoint(this.#endpointRow(tenantId, endpointId)!);
    });
  }

  async removeEndpoint(tenantId: number, endpointId: number, by: AuditActor): Promise<boolean> {
    return this.#write(() => {
      const before = this.#endpointRow(tenantId, endpointId);
      if (!before) return false;
      this.#run('DELETE FROM endpoints WHERE id = ? AND tenant_id = ?', endpointId, tenantId);
      this.#audit(by, 'endpoint.remove', tenantId, before.name, { endpointId });
      return true;
    });
  }

  async listEndpointsForProbing(tenantId: number): Promise<ProbeEndpoint[]> {
    return this.#do(() =>
      this.#all<EndpointRow>(
        `SELECT e.* FROM endpoints e JOIN tenants t ON t.id = e.tenant_id
         WHERE e.tenant_id = ? AND e.enabled = 1 AND t.status = 'active' ORDER BY e.name`,
        tenantId,
      ).map((r) => ({
        ...endpointSettings(r),
        headers: (JSON.parse(r.headers) as StoredHeader[]).map((h) => ({
          name: h.name,
          value: h.secret ? this.#box.open(h.sealed!, headerContext(tenantId, h.name)) : (h.value ?? ''),
          secret: h.secret,
        })),
      })),
    );
  }

  // ---- push rejections --------------------------------------------------------------------------

  async recordPushRejection(tenantId: number, r: NewPushRejection): Promise<void> {
    await this.#write(() => {
      // A server id is only kept if it belongs to this tenant.
      const serverId =
        r.serverId != null &&
        this.#get('SELECT 1 FROM servers WHERE id = ? AND tenant_id = ?', r.serverId, tenantId)
          ? r.serverId
          : null;
      this.#run(
        `INSERT INTO push_rejections (tenant_id, server_id, client_id, status, reason, source_addr, at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        tenantId,
        serverId,
        r.clientId ?? null,
        r.status,
        r.reason.slice(0, 1000),
        r.sourceAddr ?? null,
        r.at !== undefined ? toMs(r.at) : this.#now(),
      );
      this.#run(
        `DELETE FROM push_rejections WHERE tenant_id = ? AND server_id IS ? AND id <= (
           SELECT id FROM push_rejections WHERE tenant_id = ? AND server_id IS ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
        tenantId,
        serverId,
        tenantId,
        serverId,
        this.#options.pushRejectionsKept,
      );
    });
  }

  async listPushRejections(
    tenantId: number,
    filter?: { serverId?: number; limit?: number },
  ): Promise<PushRejection[]> {
    return this.#do(() => {
      const limit = Math.min(Math.max(filter?.limit ?? 50, 1), 1000);
      const rows =
        filter?.serverId !== undefined
          ? this.#all<PushRejectionRow>(
              'SELECT * FROM push_rejections WHERE tenant_id = ? AND server_id = ? ORDER BY id DESC LIMIT ?',
              tenantId,
              filter.serverId,
              limit,
            )
          : this.#all<PushRejectionRow>(
              'SELECT * FROM push_rejections WHERE tenant_id = ? ORDER BY id DESC LIMIT ?',
              tenantId,
              limit,
            );
      return rows.map(toPushRejection);
    });
  }

  // ---- audit ------------------------------------------------------------------------------------

  async appendAudit(entry: NewAuditEntry): Promise<void> {
    await this.#write(() => this.#insertAudit(entry));
  }

  #queryAudit(tenantId: number | undefined, q: AuditQuery): AuditEntry[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (tenantId !== undefined) {
      where.push('tenant_id = ?');
      params.push(tenantId);
    }
    if (q.since !== undefined) {
      where.push('at >= ?');
      params.push(toMs(q.since));
    }
    if (q.until !== undefined) {
      where.push('at < ?');
      params.push(toMs(q.until));
    }
    if (q.action !== undefined) {
      // "token.*" selects every token action.
      if (q.action.endsWith('*')) {
        where.push(`action LIKE ? ESCAPE '\\'`);
        params.push(`${q.action.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
      } else {
        where.push('action = ?');
        params.push(q.action);
      }
    }
    const limit = Math.min(Math.max(q.limit ?? DEFAULT_AUDIT_LIMIT, 1), MAX_AUDIT_LIMIT);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    return this.#all<AuditRow>(sql, ...params, limit).map(toAuditEntry);
  }

  async listAudit(tenantId: number, query: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.#do(() => this.#queryAudit(tenantId, query));
  }

  async listPlatformAudit(query: AuditQuery = {}): Promise<AuditEntry[]> {
    return this.#do(() => this.#queryAudit(undefined, query));
  }
}

function auditNoun(kind: Credential['kind']): string {
  return kind === 'push' ? 'token' : kind === 'read' ? 'apikey' : 'admin-key';
}

function totpContext(userId: number): string {
  return `totp:user:${userId}`;
}

function headerContext(tenantId: number, headerName: string): string {
  return `endpoint-header:${tenantId}:${headerName.toLowerCase()}`;
}

/** Column values shared by INSERT and UPDATE, in the order both statements list them. */
function endpointColumns(e: EndpointInput): unknown[] {
  return [
    e.name,
    e.url,
    e.method,
    e.intervalSeconds,
    e.timeoutSeconds,
    JSON.stringify(e.expectedStatus),
    e.bodyMatch ? JSON.stringify(e.bodyMatch) : null,
    e.tlsVerify ? 1 : 0,
    e.followRedirects ? 1 : 0,
  ];
}

function endpointSettings(r: EndpointRow): Omit<Endpoint, 'headers'> {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    url: r.url,
    method: r.method as HttpMethod,
    intervalSeconds: r.interval_seconds,
    timeoutSeconds: r.timeout_seconds,
    expectedStatus: JSON.parse(r.expected_status) as number[],
    bodyMatch: r.body_match === null ? null : (JSON.parse(r.body_match) as BodyMatch),
    tlsVerify: r.tls_verify === 1,
    followRedirects: r.follow_redirects === 1,
    enabled: r.enabled === 1,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Settings for the audit log: header names only, never header values. */
function endpointAuditDetails(endpointId: number, e: EndpointInput): Record<string, unknown> {
  return {
    endpointId,
    url: e.url,
    method: e.method,
    intervalSeconds: e.intervalSeconds,
    timeoutSeconds: e.timeoutSeconds,
    expectedStatus: e.expectedStatus,
    bodyMatch: e.bodyMatch,
    tlsVerify: e.tlsVerify,
    followRedirects: e.followRedirects,
    headerNames: e.headers.map((h) => h.name),
    enabled: e.enabled,
  };
}
