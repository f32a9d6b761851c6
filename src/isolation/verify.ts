import { HTTP_ATTACKS } from './attacks.ts';
import { provisionCanaries } from './canaries.ts';
import { runAttacks } from './run.ts';
import type { AttackResult } from './types.ts';

/**
 * `irin verify-isolation`: the cross-tenant attack table against a live deployment. It creates
 * canary tenants (`irin-canary-<random>-a/-b/-s`) through the admin API, pushes canary series and
 * log lines, runs every probe that works over HTTP without test-only set-up, prints pass/fail per
 * probe, and decommissions the canaries whatever happened. It touches nothing but its canaries.
 */

export interface VerifyOptions {
  readonly url: string;
  readonly adminKey: string;
  readonly tenantLabel?: string;
  /** Progress and result lines (not with --json). */
  readonly print?: (line: string) => void;
}

export interface VerifyReport {
  readonly url: string;
  readonly canaries: readonly string[];
  readonly results: readonly AttackResult[];
  readonly breaches: number;
  readonly errors: number;
  /** Canary tenants that could not be decommissioned (should be empty). */
  readonly cleanupProblems: readonly string[];
  readonly ok: boolean;
}

const STATUS_WORD: Record<AttackResult['status'], string> = {
  contained: 'PASS',
  BREACH: 'FAIL',
  'n/a': 'SKIP',
  error: 'ERROR',
};

export function formatResult(r: AttackResult): string {
  return `${STATUS_WORD[r.status].padEnd(5)} ${r.id.padEnd(30)} ${r.title}\n      ${r.status === 'BREACH' ? 'BREACH: ' : ''}${r.detail}`;
}

export async function verifyIsolation(options: VerifyOptions): Promise<VerifyReport> {
  const print = options.print ?? (() => {});
  const canaries = await provisionCanaries({
    url: options.url,
    adminKey: options.adminKey,
    ...(options.tenantLabel ? { tenantLabel: options.tenantLabel } : {}),
    log: print,
  });
  let results: AttackResult[] = [];
  let cleanupProblems: string[] = [];
  try {
    if (!canaries.ctx.loki) print('the Loki API does not answer on this server: the log probes are skipped');
    results = await runAttacks(
      HTTP_ATTACKS.filter((a) => !a.testOnly),
      canaries.ctx,
      { onResult: (r) => print(formatResult(r)) },
    );
  } finally {
    cleanupProblems = await canaries.cleanup();
    for (const p of cleanupProblems) print(`WARNING ${p}`);
  }
  const breaches = results.filter((r) => r.status === 'BREACH').length;
  const errors = results.filter((r) => r.status === 'error').length;
  return {
    url: options.url,
    canaries: canaries.slugs,
    results,
    breaches,
    errors,
    cleanupProblems,
    ok: breaches === 0 && errors === 0 && cleanupProblems.length === 0,
  };
}

/** The command's failure (exit code 1); the report has been printed already. */
export class VerifyFailed extends Error {
  constructor(readonly report: VerifyReport) {
    super(
      `${report.breaches} probe(s) breached isolation, ${report.errors} could not run, ` +
        `${report.cleanupProblems.length} canary tenant(s) could not be decommissioned`,
    );
  }
}
