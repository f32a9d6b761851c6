import type { IsolationLayer } from './faults.ts';

/** A client id and its secret (push token, read key). */
export interface Cred {
  readonly clientId: string;
  readonly secret: string;
}

/** One canary tenant and everything the probes need to know about it. */
export interface CanaryTenant {
  readonly slug: string;
  readonly id: number;
  /** Random: the value of the `canary` label on every series and stream, and inside every line. */
  readonly marker: string;
  /** A metric name only this tenant has (contains the marker). */
  readonly metric: string;
  /** The sample value of every canary sample (random, distinct per tenant). */
  readonly value: string;
  /** Server-bound push tokens: two servers. */
  readonly servers: readonly { readonly name: string; readonly id: number; readonly token: Cred }[];
  /** A tenant-wide push token. */
  readonly push: Cred;
  /** A read API key. */
  readonly read: Cred;
  /** A (disabled) probe endpoint. */
  readonly endpoint: { readonly id: number; readonly name: string };
  /** Number of canary series pushed (for count comparisons). */
  readonly seriesCount: number;
}

/** A signed-in console session: its cookie value and CSRF token. */
export interface ConsoleSession {
  readonly cookie: string;
  readonly csrf: string;
}

/** What the console probes need: A's admin session, and B's object ids. */
export interface ConsoleAccess {
  /** Base URL serving /api/console (the server itself, or a test's side server on the same data dir). */
  readonly url: string;
  readonly adminA: ConsoleSession;
  readonly userB: { readonly id: number; readonly email: string };
}

/** Everything an attack runs against: a live server holding two canary tenants with data. */
export interface AttackContext {
  readonly url: string;
  /** The label the edge pins on writes and the query APIs inject (`tenancy.tenant_label`). */
  readonly tenantLabel: string;
  /** The attacker. */
  readonly a: CanaryTenant;
  /** The victim. */
  readonly b: CanaryTenant;
  /** Credentials that must be refused: B's revoked and expired ones, a suspended tenant's. */
  readonly refused: {
    readonly revokedPush: Cred;
    readonly revokedRead: Cred;
    readonly expiredPush: Cred;
    readonly expiredRead: Cred;
    readonly suspendedPush: Cred;
    readonly suspendedRead: Cred;
  };
  /** The Loki API answers at /loki (detected at run time). */
  readonly loki: boolean;
  /** Console probes run only when a console API and canary users are available. */
  readonly console: ConsoleAccess | undefined;
  /** A fresh name for a probe's own series or stream. */
  unique(prefix: string): string;
}

export type AttackGroup =
  'write' | 'credentials' | 'headers' | 'prometheus' | 'loki' | 'paths' | 'params' | 'console' | 'limits';

export interface AttackOutcome {
  readonly breached: boolean;
  readonly detail: string;
}

export interface Attack {
  readonly id: string;
  readonly group: AttackGroup;
  readonly title: string;
  /**
   * The isolation layers that each, on its own, stop this attack. With one of them switched off
   * the others must still contain it; an attack with a single guard (and no otherGuards) is
   * expected to get through when that layer is off — which also shows the probe can see a breach.
   */
  readonly guards: readonly IsolationLayer[];
  /** Checks that also stop it but are not one of the five switchable layers. */
  readonly otherGuards?: readonly string[];
  readonly needs?: readonly ('loki' | 'console')[];
  /** Writes run after every read probe, so the reads see only the canaries' own data. */
  readonly phase?: 'read' | 'write';
  /** Runs only in the test suite (load, or needs more than a live deployment offers). */
  readonly testOnly?: boolean;
  run(ctx: AttackContext): Promise<AttackOutcome>;
}

export type AttackStatus = 'contained' | 'BREACH' | 'n/a' | 'error';

export interface AttackResult {
  readonly id: string;
  readonly group: AttackGroup;
  readonly title: string;
  readonly status: AttackStatus;
  readonly detail: string;
  readonly ms: number;
}
