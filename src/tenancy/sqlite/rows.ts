import type {
  AuditEntry,
  Credential,
  CredentialKind,
  Membership,
  PushRejection,
  Server,
  Session,
  Tenant,
  TenantStatus,
  User,
} from '../store.ts';
import type { Role } from '../validation.ts';
import type { TenantLimits } from '../limits.ts';

/** Raw row shapes of the SQLite schema (see migrations.ts) and their mapping to store entities. */

export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function toMs(value: string): number;
export function toMs(value: string | null | undefined): number | null;
export function toMs(value: string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`not an ISO-8601 time: ${value}`);
  return ms;
}

export interface TenantRow {
  id: number;
  slug: string;
  display_name: string;
  status: TenantStatus;
  limit_overrides: string;
  created_at: number;
  updated_at: number;
  decommissioned_at: number | null;
  storage_removed_at: number | null;
}

export function toTenant(r: TenantRow): Tenant {
  return {
    id: r.id,
    slug: r.slug,
    displayName: r.display_name,
    status: r.status,
    limitOverrides: JSON.parse(r.limit_overrides) as Partial<TenantLimits>,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    decommissionedAt: iso(r.decommissioned_at),
    storageRemovedAt: iso(r.storage_removed_at),
  };
}

export interface ServerRow {
  id: number;
  tenant_id: number;
  name: string;
  created_at: number;
  removed_at: number | null;
  last_seen_at: number | null;
  last_seen_addr: string | null;
}

export function toServer(r: ServerRow): Server {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name,
    createdAt: iso(r.created_at),
    lastSeenAt: iso(r.last_seen_at),
    lastSeenAddr: r.last_seen_addr,
  };
}

export interface CredentialRow {
  id: number;
  client_id: string;
  kind: CredentialKind;
  tenant_id: number | null;
  server_id: number | null;
  server_name: string | null;
  name: string;
  role: 'viewer' | null;
  secret_hash: Buffer;
  previous_secret_hash: Buffer | null;
  previous_valid_until: number | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  revoked_at: number | null;
  rotated_at: number | null;
  last_used_at: number | null;
  last_used_addr: string | null;
}

/** Selects a credential with its server's name; never hand `secret_hash` to anything but auth. */
export const CREDENTIAL_SELECT = `
  SELECT c.*, s.name AS server_name
  FROM credentials c LEFT JOIN servers s ON s.id = c.server_id`;

export function toCredential(r: CredentialRow): Credential {
  return {
    clientId: r.client_id,
    kind: r.kind,
    tenantId: r.tenant_id,
    serverId: r.server_id,
    serverName: r.server_name,
    name: r.name,
    role: r.role,
    createdAt: iso(r.created_at),
    createdBy: r.created_by,
    expiresAt: iso(r.expires_at),
    revokedAt: iso(r.revoked_at),
    rotatedAt: iso(r.rotated_at),
    previousValidUntil: iso(r.previous_valid_until),
    lastUsedAt: iso(r.last_used_at),
    lastUsedAddr: r.last_used_addr,
  };
}

export interface UserRow {
  id: number;
  email: string;
  display_name: string;
  password_hash: string;
  platform_admin: 0 | 1;
  totp_secret_sealed: string | null;
  totp_last_step: number | null;
  mfa_enabled: 0 | 1;
  created_at: number;
  updated_at: number;
}

export function toUser(r: UserRow): User {
  return {
    id: r.id,
    email: r.email,
    displayName: r.display_name,
    platformAdmin: r.platform_admin === 1,
    mfaEnabled: r.mfa_enabled === 1,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export interface MembershipRow {
  tenant_id: number;
  tenant_slug: string;
  user_id: number;
  user_email: string;
  role: Role;
  created_at: number;
  updated_at: number;
}

export const MEMBERSHIP_SELECT = `
  SELECT m.*, t.slug AS tenant_slug, u.email AS user_email
  FROM memberships m JOIN tenants t ON t.id = m.tenant_id JOIN users u ON u.id = m.user_id`;

export function toMembership(r: MembershipRow): Membership {
  return {
    tenantId: r.tenant_id,
    tenantSlug: r.tenant_slug,
    userId: r.user_id,
    userEmail: r.user_email,
    role: r.role,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export interface SessionRow {
  id_hash: Buffer;
  user_id: number;
  tenant_id: number | null;
  created_at: number;
  expires_at: number;
  source_addr: string | null;
}

export function toSession(r: SessionRow): Session {
  return {
    userId: r.user_id,
    tenantId: r.tenant_id,
    createdAt: iso(r.created_at),
    expiresAt: iso(r.expires_at),
    sourceAddr: r.source_addr,
  };
}

export interface EndpointRow {
  id: number;
  tenant_id: number;
  name: string;
  url: string;
  method: string;
  interval_seconds: number;
  timeout_seconds: number;
  expected_status: string;
  body_match: string | null;
  tls_verify: 0 | 1;
  follow_redirects: 0 | 1;
  headers: string;
  enabled: 0 | 1;
  created_at: number;
  updated_at: number;
}

/** How a header is kept in the `headers` JSON column: secret values only sealed. */
export interface StoredHeader {
  name: string;
  secret: boolean;
  value?: string;
  sealed?: string;
}

export interface PushRejectionRow {
  id: number;
  tenant_id: number;
  server_id: number | null;
  client_id: string | null;
  status: number;
  reason: string;
  source_addr: string | null;
  at: number;
}

export function toPushRejection(r: PushRejectionRow): PushRejection {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    serverId: r.server_id,
    clientId: r.client_id,
    status: r.status,
    reason: r.reason,
    sourceAddr: r.source_addr,
    at: iso(r.at),
  };
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  tenant_id: number | null;
  target: string | null;
  source_addr: string | null;
  details: string;
}

export function toAuditEntry(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: iso(r.at),
    actor: r.actor,
    action: r.action,
    tenantId: r.tenant_id,
    target: r.target,
    sourceAddr: r.source_addr,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}
