import type { Matcher } from '../model/matchers.ts';
import { layerOff } from '../isolation/faults.ts';
import { mapExpr, type Expr } from './ast.ts';

/**
 * Isolation layer 2 on reads: the parsed query is rewritten so that every selector — instant
 * or range, at any depth (function arguments, aggregations, binary operands, subqueries) —
 * also requires `<label>="<tenant>"`. The matcher is added, never substituted: the query's own
 * matchers on that label stay and can only narrow the result further. Rewriting the tree, not
 * the text, means no quoting or syntax trick can place a selector outside the rewrite.
 */

export function tenantMatcher(labelName: string, tenant: string): Matcher {
  return { name: labelName, type: '=', value: tenant };
}

/** A selector's matchers AND-ed with the tenant matcher (for `match[]` of series/labels/values). */
export function scopeMatchers(matchers: readonly Matcher[], labelName: string, tenant: string): Matcher[] {
  if (layerOff('query-injection')) return [...matchers]; // test-only fault injection (docs/security.md)
  return [...matchers, tenantMatcher(labelName, tenant)];
}

export function injectTenantMatcher(expr: Expr, labelName: string, tenant: string): Expr {
  return mapExpr(expr, (node) =>
    node.type === 'VectorSelector'
      ? { ...node, matchers: scopeMatchers(node.matchers, labelName, tenant) }
      : node,
  );
}
