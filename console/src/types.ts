/** Shapes of the console API's answers (src/console/*-routes.ts) and the endpoint status API. */

export type Role = 'viewer' | 'editor' | 'admin';

export interface Org {
  id: number;
  slug: string;
  displayName: string;
  role: Role;
  status: string;
}

export interface Me {
  user: { id: number; email: string; displayName: string; platformAdmin: boolean; mfaEnabled: boolean };
  orgs: Org[];
  currentOrg: Org | null;
  csrfToken: string;
  expiresAt: string;
}

export type ServerState = 'up' | 'stale' | 'never-seen';

export interface ServerRow {
  id: number;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
  lastSeenAddr: string | null;
  state: ServerState;
}

export interface CredentialRow {
  clientId: string;
  kind: 'push' | 'read' | 'admin';
  name: string;
  serverId: number | null;
  serverName: string | null;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  lastUsedAddr: string | null;
  state?: 'active' | 'expired' | 'revoked';
}

export interface PushSettings {
  remoteWriteUrl: string;
  lokiPushUrl: string;
  clientId: string;
  secret: string;
  bearerToken: string;
  headers: Record<string, string>;
  alloyConfig: string | null;
  prometheusConfig: string | null;
  installScript: string | null;
  instance: string | null;
}

export interface GrafanaSettings {
  prometheusUrl: string;
  lokiUrl: string;
  basicAuthUser: string;
  basicAuthPassword: string;
  headerName: string;
  headerValue: string;
  provisioning: string;
}

export interface EndpointHeader {
  name: string;
  value: string | null;
  secret: boolean;
}

export interface EndpointConfig {
  id: number;
  name: string;
  url: string;
  method: string;
  intervalSeconds: number;
  timeoutSeconds: number;
  expectedStatus: number[];
  bodyMatch: { kind: 'keyword' | 'regex'; pattern: string; negate: boolean } | null;
  tlsVerify: boolean;
  followRedirects: boolean;
  headers: EndpointHeader[];
  enabled: boolean;
}

export interface UptimeSummary {
  uptimePercent: number | null;
  coverage: number;
  samples: number;
  failedSamples: number;
  downSeconds: number;
}

export interface FailureReason {
  code: string;
  detail: string;
}

export interface EndpointStatus {
  id: number;
  name: string;
  url: string;
  method: string;
  intervalSeconds: number;
  enabled: boolean;
  state: 'up' | 'down' | 'no_data' | 'paused';
  lastResult: {
    t: number;
    success: boolean;
    statusCode: number;
    durationSeconds: number | null;
    reason: FailureReason | null;
  } | null;
  uptime: Record<'24h' | '7d' | '30d' | '90d', UptimeSummary>;
  lastProbe?: {
    phases: Record<string, number>;
    redirects: number;
    finalUrl: string;
    httpVersion: number;
    tls: {
      version: string;
      earliestCertExpiry: number;
      lastChainExpiry: number | null;
      leaf: { subject: string; issuer: string };
    } | null;
  } | null;
}

export interface CalendarDay extends UptimeSummary {
  date: string;
  status: 'ok' | 'degraded' | 'down' | 'no_data';
}

export interface Incident {
  start: number;
  end: number | null;
  open: boolean;
  durationSeconds: number;
  downSeconds: number;
  failedSamples: number;
  reason: FailureReason | null;
  startedBeforeRange: boolean;
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

export interface Member {
  userId: number;
  email: string;
  displayName: string;
  mfaEnabled: boolean;
  role: Role;
  since: string;
}

export interface TenantRow {
  id: number;
  slug: string;
  displayName: string;
  status: 'active' | 'suspended' | 'decommissioned';
  createdAt: string;
  limitOverrides: Record<string, number>;
  servers: number;
  activePushTokens: number;
  activeReadKeys: number;
  members: number;
  endpoints: number;
}
