import type { Attack, AttackContext, AttackResult } from './types.ts';

export interface RunOptions {
  /** Called after each attack (progress output). */
  readonly onResult?: (result: AttackResult) => void;
}

const NEEDS_TEXT = {
  loki: 'not applicable yet: the Loki API is not mounted on this server',
  console:
    'not run: needs canary console users, which only the test suite creates (users cannot be deleted afterwards)',
} as const;

/**
 * Runs attacks one after another: every read probe first, then every write probe (so the reads
 * see only the canaries' own data). An attack whose needs are missing is reported `n/a` with the
 * reason; one that throws is reported `error` (a failed probe, not a breach).
 */
export async function runAttacks(
  attacks: readonly Attack[],
  ctx: AttackContext,
  options: RunOptions = {},
): Promise<AttackResult[]> {
  const ordered = [
    ...attacks.filter((a) => a.phase !== 'write'),
    ...attacks.filter((a) => a.phase === 'write'),
  ];
  const results: AttackResult[] = [];
  for (const attack of ordered) {
    const started = performance.now();
    const base = { id: attack.id, group: attack.group, title: attack.title };
    let result: AttackResult;
    const missing = (attack.needs ?? []).find((n) => (n === 'loki' ? !ctx.loki : !ctx.console));
    if (missing) {
      result = { ...base, status: 'n/a', detail: NEEDS_TEXT[missing], ms: 0 };
    } else {
      try {
        const outcome = await attack.run(ctx);
        result = {
          ...base,
          status: outcome.breached ? 'BREACH' : 'contained',
          detail: outcome.detail,
          ms: performance.now() - started,
        };
      } catch (err) {
        result = {
          ...base,
          status: 'error',
          detail: err instanceof Error ? err.message : String(err),
          ms: performance.now() - started,
        };
      }
    }
    results.push(result);
    options.onResult?.(result);
  }
  // Report in table order.
  const position = new Map(attacks.map((a, i) => [a.id, i]));
  return results.sort((x, y) => position.get(x.id)! - position.get(y.id)!);
}
