import type { IsolationLayer } from '../../src/isolation/faults.ts';
import type { Attack, AttackResult } from '../../src/isolation/types.ts';

/** One run of the attack table: which layers were off, and what each attack did. */
export interface FaultRun {
  readonly off: readonly IsolationLayer[];
  readonly results: ReadonlyMap<string, AttackResult>;
}

export const LAYER_CODE: Record<IsolationLayer, string> = {
  'query-injection': 'Q',
  'org-scoping': 'O',
  partitions: 'P',
  'write-labels': 'W',
  credentials: 'C',
};

export const runName = (off: readonly IsolationLayer[]): string =>
  off.length === 0 ? 'none' : off.map((l) => LAYER_CODE[l]).join('+');

/**
 * What the design promises for an attack with `off` switched off:
 * - 'contained' — some guard remains (a layer that is still on, or a check outside the five);
 * - 'breach'    — every guard is off, so the probe must see the breach (this is what shows the
 *                 probe can fail: a probe that stays "contained" with all its guards off is wrong).
 */
export function expectation(attack: Attack, off: readonly IsolationLayer[]): 'contained' | 'breach' {
  const remaining = attack.guards.filter((g) => !off.includes(g));
  return remaining.length === 0 && (attack.otherGuards ?? []).length === 0 ? 'breach' : 'contained';
}

/** The cell text: the guards still standing, BREACH when it was expected, BREACH!! when not. */
function cell(attack: Attack, run: FaultRun): string {
  const r = run.results.get(attack.id);
  if (!r) return '-';
  if (r.status === 'n/a') return 'n/a';
  if (r.status === 'error') return 'ERROR';
  // With several layers off the design promises nothing more: a breach there is only information.
  if (r.status === 'BREACH')
    return expectation(attack, run.off) === 'breach' || run.off.length > 1 ? 'BREACH' : 'BREACH!!';
  const remaining = attack.guards.filter((g) => !run.off.includes(g)).map((g) => LAYER_CODE[g]);
  if ((attack.otherGuards ?? []).length > 0) remaining.push('x');
  return remaining.length ? remaining.join('+') : 'ok?';
}

/** The printed matrix: one row per attack, one column per run. */
export function formatMatrix(attacks: readonly Attack[], runs: readonly FaultRun[]): string {
  const header = ['attack \\ layer off', ...runs.map((r) => runName(r.off))];
  const rows = attacks.map((a) => [a.id, ...runs.map((r) => cell(a, r))]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  out.push(
    '',
    'Columns: the layers switched off (none; Q query matcher injection, O org scoping in the data-access layer,',
    'P storage partitions, W write-side label enforcement, C credential checking; Q+P etc. switch two off to show',
    'the probe sees a breach once all its guards are gone). Cells: the guards that still contained the attack',
    '(x = a check outside the five layers: kind check, ambiguity refusal, router, parameter hygiene, CSRF, …);',
    'BREACH = got through, as the design expects when every guard of the attack is off;',
    'BREACH!! = got through although one of its guards was still on (a failure); n/a = not applicable here.',
  );
  return out.join('\n');
}
