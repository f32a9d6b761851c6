import type { TenantLimits } from './limits.ts';
import type { Role } from './validation.ts';

/**
 * The control-plane store: tenants, servers, credentials, users, sessions, endpoints, push
 * rejections and the audit log. Every method returns a Promise so that a PostgreSQL
 * implementation can replace the SQLite one when several Irin instances share one control plane.
 *
 * Rules every implementation keeps:
 * - every query on a tenant-owned object takes the tenant id and filters by it in the query itself
 *   (isolation layer 3), so a caller holding tenant A's id cannot reach tenant B's rows;
 * - every change is written to the audit log in the same transaction (the `by` argument);
 * - secrets never reach the store in plain text except TOTP seeds and secret probe-header values,
 *   which the store encrypts at rest and never returns from list methods;
 * - constraint violations surface as ConflictError, an unreachable or locked database as
 *   StoreUnavailableError (see ./errors.ts).
 *
 * Timestamps are ISO-8601 strings (UTC).
 */
export interface ControlPlaneStore {
  /** Opens and migrates the database now (otherwise this happens on first use). */
  ready(): Promise<void>;
  close(): Promise<void>;

  /** A counter bumped by every change that can invalidate a cached credential or endpoint list. */
  getChangeSeq(topic: ChangeTopic): Promise<number>;

  // Tenants (platform-level: the tenant is the scope itself).
  createTenant(input: NewTenant, by: AuditActor): Promise<Tenant>;
  getTenant(tenantId: number): Promise<Tenant | undefined>;
  getTenantBySlug(slug: string): Promise<Tenant | undefined>;
  listTenants(filter?: { status?: TenantStatus }): Promise<Tenant[]>;
  updateTenant(tenantId: number, patch: TenantPatch, by: AuditActor): Promise<Tenant | undefined>;
  setTenantStatus(
    tenantId: number,
    status: 'active' | 'suspended',
    by: AuditActor,
  ): Promise<Tenant | undefined>;
  /** Marks decommissioned, revokes every credential, ends sessions. The storage is removed later (see below). */
  decommissionTenant(tenantId: number, by: AuditActor): Promise<DecommissionResult | undefined>;
  /** Decommissioned tenants whose storage partitions have not been removed yet. */
  listTenantsAwaitingStorageRemoval(): Promise<Tenant[]>;
  markTenantStorageRemoved(tenantId: number, by: AuditActor): Promise<void>;

  // Servers.
  /** Adds a server; with `token`, also its server-bound push token, in the same transaction. */
  addServer(
    tenantId: number,
    input: { name: string; token?: NewCredentialSecret },
    by: AuditActor,
  ): Promise<{ server: Server; token?: Credential }>;
  getServerByName(tenantId: number, name: string): Promise<Server | undefined>;
  getServer(tenantId: number, serverId: number): Promise<Server | undefined>;
  listServers(tenantId: number): Promise<Server[]>;
  /** Removes the server and revokes the push tokens bound to it. */
  removeServer(
    tenantId: number,
    serverId: number,
    by: AuditActor,
  ): Promise<{ revokedTokens: number } | undefined>;

  // Credentials: push tokens and read keys (tenant-owned), admin keys (platform).
  createCredential(input: NewCredential, by: AuditActor): Promise<Credential>;
  listCredentials(scope: CredentialScope): Promise<Credential[]>;
  getCredential(scope: CredentialScope, clientId: string): Promise<Credential | undefined>;
  revokeCredential(scope: CredentialScope, clientId: string, by: AuditActor): Promise<Credential | undefined>;
  /** New secret; the previous one stays valid until `previousValidUntil` (undefined: old secret dies now). */
  rotateCredential(
    scope: CredentialScope,
    clientId: string,
    rotation: { secretHash: Buffer; previousValidUntil?: string },
    by: AuditActor,
  ): Promise<Credential | undefined>;
  /**
   * The request-authentication lookup: a client id is globally unique and is all a request
   * presents, so this is the one platform-wide credential query. Returns hashes, never secrets.
   */
  findCredentialForAuth(clientId: string): Promise<CredentialAuthRecord | undefined>;
  /** Batched last-used bookkeeping (also the server's last-seen time for server-bound tokens). */
  recordCredentialUse(uses: readonly CredentialUse[]): Promise<void>;

  // Users, memberships, MFA.
  createUser(input: NewUser, by: AuditActor): Promise<User>;
  getUser(userId: number): Promise<User | undefined>;
  getUserByEmail(email: string): Promise<User | undefined>;
  listUsers(): Promise<User[]>;
  /** Everything needed to check a login; for the login path only. */
  getUserCredentials(userId: number): Promise<UserCredentials | undefined>;
  setUserPassword(userId: number, passwordHash: string, by: AuditActor): Promise<boolean>;
  setPlatformAdmin(userId: number, platformAdmin: boolean, by: AuditActor): Promise<boolean>;
  /** Stores a new (not yet confirmed) TOTP seed, encrypted; MFA stays off until confirmed. */
  beginMfaEnrolment(userId: number, totpSecret: string, by: AuditActor): Promise<boolean>;
  /** Turns MFA on and replaces the recovery codes (given as hashes). */
  completeMfaEnrolment(
    userId: number,
    recoveryCodeHashes: readonly Buffer[],
    by: AuditActor,
  ): Promise<boolean>;
  /** Clears the TOTP seed and recovery codes, turns MFA off and ends the user's sessions. */
  resetMfa(userId: number, by: AuditActor): Promise<boolean>;
  /** Marks a recovery code used; false if it is unknown or already used (single use, atomically). */
  consumeRecoveryCode(userId: number, codeHash: Buffer): Promise<boolean>;
  /** Records the TOTP time step just accepted; false if that step (or a later one) was already used. */
  recordTotpStep(userId: number, step: number): Promise<boolean>;
  setMembership(tenantId: number, userId: number, role: Role, by: AuditActor): Promise<MembershipChange>;
  removeMembership(tenantId: number, userId: number, by: AuditActor): Promise<boolean>;
  getMembership(tenantId: number, userId: number): Promise<Membership | undefined>;
  listTenantMembers(tenantId: number): Promise<Membership[]>;
  listUserMemberships(userId: number): Promise<Membership[]>;

  // Console sessions (the cookie value is only ever stored as a hash).
  createSession(input: NewSession): Promise<void>;
  getSession(idHash: Buffer): Promise<Session | undefined>;
  setSessionTenant(idHash: Buffer, tenantId: number | null): Promise<boolean>;
  deleteSession(idHash: Buffer): Promise<boolean>;
  deleteUserSessions(userId: number): Promise<number>;
  deleteExpiredSessions(now: string): Promise<number>;

  // Probe endpoints.
  createEndpoint(tenantId: number, input: EndpointInput, by: AuditActor): Promise<Endpoint>;
  getEndpointByName(tenantId: number, name: string): Promise<Endpoint | undefined>;
  listEndpoints(tenantId: number): Promise<Endpoint[]>;
  /** Replaces the endpoint's settings. A secret header given without a value keeps its stored value. */
  updateEndpoint(
    tenantId: number,
    endpointId: number,
    input: EndpointInput,
    by: AuditActor,
  ): Promise<Endpoint | undefined>;
  removeEndpoint(tenantId: number, endpointId: number, by: AuditActor): Promise<boolean>;
  /** For the prober only: enabled endpoints with secret header values decrypted. */
  listEndpointsForProbing(tenantId: number): Promise<ProbeEndpoint[]>;

  // Push rejections (written by the edge; read by `irin server check`).
  recordPushRejection(tenantId: number, rejection: NewPushRejection): Promise<void>;
  listPushRejections(
    tenantId: number,
    filter?: { serverId?: number; limit?: number },
  ): Promise<PushRejection[]>;

  // Audit log.
  /** For events that are not store changes: rejected credentials, logins. */
  appendAudit(entry: NewAuditEntry): Promise<void>;
  listAudit(tenantId: number, query?: AuditQuery): Promise<AuditEntry[]>;
  listPlatformAudit(query?: AuditQuery): Promise<AuditEntry[]>;
}

export type ChangeTopic = 'credentials' | 'endpoints';

/** Who makes a change, for the audit log: `cli:<os user>`, `admin-key:<client id>`, `user:<id>`, `system`. */
export interface AuditActor {
  readonly actor: string;
  readonly sourceAddr: string | null;
}

export type TenantStatus = 'active' | 'suspended' | 'decommissioned';

export interface Tenant {
  id: number;
  slug: string;
  displayName: string;
  status: TenantStatus;
  limitOverrides: Partial<TenantLimits>;
  createdAt: string;
  updatedAt: string;
  decommissionedAt: string | null;
  storageRemovedAt: string | null;
}

export interface NewTenant {
  slug: string;
  displayName: string;
  limitOverrides?: Partial<TenantLimits>;
}

export interface TenantPatch {
  displayName?: string;
  /** Replaces the whole override set. */
  limitOverrides?: Partial<TenantLimits>;
}

export interface DecommissionResult {
  tenant: Tenant;
  revokedCredentials: number;
  endedSessions: number;
}

export interface Server {
  id: number;
  tenantId: number;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
  lastSeenAddr: string | null;
}

export type CredentialKind = 'push' | 'read' | 'admin';

export type CredentialScope = { kind: 'push' | 'read'; tenantId: number } | { kind: 'admin' };

/** A credential's secret part as the store sees it: a hash, plus metadata. */
export interface NewCredentialSecret {
  clientId: string;
  secretHash: Buffer;
  name: string;
  expiresAt?: string;
}

export type NewCredential = NewCredentialSecret &
  (
    | { kind: 'push'; tenantId: number; serverId?: number }
    | { kind: 'read'; tenantId: number; role: 'viewer' }
    | { kind: 'admin' }
  );

export interface Credential {
  clientId: string;
  kind: CredentialKind;
  tenantId: number | null;
  serverId: number | null;
  serverName: string | null;
  name: string;
  role: 'viewer' | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  rotatedAt: string | null;
  /** After a rotation: until when the previous secret is still accepted. */
  previousValidUntil: string | null;
  lastUsedAt: string | null;
  lastUsedAddr: string | null;
}

export interface CredentialAuthRecord extends Credential {
  secretHash: Buffer;
  previousSecretHash: Buffer | null;
  tenant: Tenant | null;
  /** The bound server; `removed` is true once `server remove` ran (its tokens are revoked too). */
  server: (Server & { removed: boolean }) | null;
}

export interface CredentialUse {
  clientId: string;
  at: string;
  addr: string | null;
}

export interface User {
  id: number;
  email: string;
  displayName: string;
  platformAdmin: boolean;
  mfaEnabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  email: string;
  displayName: string;
  passwordHash: string;
  platformAdmin: boolean;
}

export interface UserCredentials {
  user: User;
  passwordHash: string;
  /** Decrypted TOTP seed (base32); set while enrolment is pending or MFA is on. */
  totpSecret: string | null;
  totpLastStep: number | null;
  unusedRecoveryCodes: number;
}

export interface Membership {
  tenantId: number;
  tenantSlug: string;
  userId: number;
  userEmail: string;
  role: Role;
  createdAt: string;
  updatedAt: string;
}

export interface MembershipChange {
  membership: Membership;
  previousRole: Role | null;
}

export interface NewSession {
  idHash: Buffer;
  userId: number;
  tenantId: number | null;
  expiresAt: string;
  sourceAddr: string | null;
}

export interface Session {
  userId: number;
  tenantId: number | null;
  createdAt: string;
  expiresAt: string;
  sourceAddr: string | null;
}

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

export interface BodyMatch {
  kind: 'keyword' | 'regex';
  pattern: string;
  /** True: the check fails when the body matches. */
  negate: boolean;
}

export interface EndpointHeaderInput {
  name: string;
  /** Omitted for a secret header on update: keep the stored value. */
  value?: string;
  secret: boolean;
}

/** As listed: secret values are never returned. */
export interface EndpointHeader {
  name: string;
  value: string | null;
  secret: boolean;
}

export interface EndpointInput {
  name: string;
  url: string;
  method: HttpMethod;
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Accepted status codes; empty means any 2xx. */
  expectedStatus: number[];
  bodyMatch: BodyMatch | null;
  tlsVerify: boolean;
  followRedirects: boolean;
  headers: EndpointHeaderInput[];
  enabled: boolean;
}

export interface Endpoint extends Omit<EndpointInput, 'headers'> {
  id: number;
  tenantId: number;
  headers: EndpointHeader[];
  createdAt: string;
  updatedAt: string;
}

export interface ProbeEndpoint extends Omit<Endpoint, 'headers'> {
  headers: { name: string; value: string; secret: boolean }[];
}

export interface NewPushRejection {
  serverId?: number | null;
  clientId?: string | null;
  /** The HTTP status answered. */
  status: number;
  /** Human-readable reason, e.g. "label instance overwritten" or "token revoked". Never a secret. */
  reason: string;
  sourceAddr?: string | null;
  at?: string;
}

export interface PushRejection {
  id: number;
  tenantId: number;
  serverId: number | null;
  clientId: string | null;
  status: number;
  reason: string;
  sourceAddr: string | null;
  at: string;
}

export interface NewAuditEntry {
  actor: string;
  action: string;
  tenantId: number | null;
  target: string | null;
  sourceAddr: string | null;
  details?: Record<string, unknown>;
  at?: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  tenantId: number | null;
  target: string | null;
  sourceAddr: string | null;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  since?: string;
  until?: string;
  action?: string;
  /** Newest first; default 100, at most 10 000. */
  limit?: number;
}
