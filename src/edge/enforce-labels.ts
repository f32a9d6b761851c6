import type { PushPrincipal } from '../auth/principal.ts';
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
 */
export function enforceLabels(
  labels: Labels,
  principal: PushPrincipal,
  policy: EnforcementPolicy,
): EnforcementResult {
  const pinned: Label[] = [{ name: policy.tenantLabel, value: principal.tenantSlug }];
  if (principal.instance !== undefined) pinned.push({ name: 'instance', value: principal.instance });

  const out: Label[] = [];
  for (const l of labels) {
    const pin = pinned.find((p) => p.name === l.name);
    if (!pin) {
      out.push(l);
      continue;
    }
    if (l.value !== pin.value && l.value !== '' && policy.onConflict === 'reject') {
      return { ok: false, label: l.name, sent: l.value, enforced: pin.value };
    }
  }
  out.push(...pinned);
  return { ok: true, labels: out.sort(compareLabels) };
}
