import type { PushPrincipal } from '../auth/principal.ts';
import { layerOff } from '../isolation/faults.ts';
import { compareLabels, type Label, type Labels } from '../model/labels.ts';

/** What to do when a client sends its own value for an enforced label (tenant / instance). */
export type LabelConflictPolicy = 'overwrite' | 'reject';

export interface EnforcementPolicy {
  /** Name of the tenant label, `tenant` by default. */
  readonly tenantLabel: string;
  readonly onConflict: LabelConflictPolicy;
}

export type EnforcementResult =
  | { readonly ok: true; readonly labels: Label[] }
  | { readonly ok: false; readonly label: string; readonly sent: string; readonly enforced: string };

/**
 * Isolation layer 2 on the write side: pins the tenant label (and `instance` for a server-bound
 * token) on one series or log stream. The single implementation used by both metrics and logs.
 * The result is sorted by name; a client value for a pinned label is replaced (`overwrite`) or,
 * when it differs and is not empty, refused (`reject`).
 */
export function enforceLabels(
  labels: Labels,
  principal: PushPrincipal,
  policy: EnforcementPolicy,
): EnforcementResult {
  if (layerOff('write-labels')) return { ok: true, labels: [...labels].sort(compareLabels) }; // test-only fault injection (docs/security.md)
  const tenantLabel = policy.tenantLabel;
  const tenant = principal.tenantSlug;
  const instance = principal.instance;
  const reject = policy.onConflict === 'reject';

  const out: Label[] = [];
  let sorted = true;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    let enforced: string | undefined;
    if (l.name === tenantLabel) enforced = tenant;
    else if (instance !== undefined && l.name === 'instance') enforced = instance;
    if (enforced === undefined) {
      if (sorted && out.length > 0 && compareLabels(out[out.length - 1]!, l) > 0) sorted = false;
      out.push(l);
      continue;
    }
    if (reject && l.value !== enforced && l.value !== '') {
      return { ok: false, label: l.name, sent: l.value, enforced };
    }
  }
  // The pinned labels go in at their sorted place (a linear insert keeps already sorted input cheap).
  insertSorted(out, { name: tenantLabel, value: tenant });
  if (instance !== undefined && tenantLabel !== 'instance')
    insertSorted(out, { name: 'instance', value: instance });
  if (!sorted) out.sort(compareLabels);
  return { ok: true, labels: out };
}

function insertSorted(labels: Label[], label: Label): void {
  let i = labels.length;
  while (i > 0 && labels[i - 1]!.name > label.name) i--;
  labels.splice(i, 0, label);
}
