import { layerOff } from '../../isolation/faults.ts';
import type { Matcher } from '../../model/matchers.ts';
import type { Expr, LogSelectorExpr, MetricExpr } from './ast.ts';

/**
 * Isolation layer 2 on the read side: adds `tenantLabel="<tenant>"` to every stream selector of a
 * parsed query. The query's own matchers stay (so `{tenant=~".+"}` or `{tenant="other"}` can only
 * narrow the result, never widen it: with the injected equality they match this tenant or
 * nothing). The rewrite is on the syntax tree, never on query text.
 */
export function injectTenantMatcher<E extends Expr>(expr: E, tenantLabel: string, tenant: string): E {
  if (layerOff('query-injection')) return expr; // test-only fault injection (docs/security.md)
  const pin: Matcher = { name: tenantLabel, type: '=', value: tenant };
  const selector = (s: LogSelectorExpr): LogSelectorExpr => ({ ...s, matchers: [...s.matchers, pin] });
  const metric = (e: MetricExpr): MetricExpr => {
    switch (e.kind) {
      case 'rangeAgg':
        return { ...e, range: { ...e.range, selector: selector(e.range.selector) } };
      case 'vectorAgg':
        return { ...e, expr: metric(e.expr) };
      case 'binary':
        return { ...e, left: metric(e.left), right: metric(e.right) };
      case 'labelReplace':
        return { ...e, expr: metric(e.expr) };
      case 'literal':
      case 'vector':
        return e;
    }
  };
  return (expr.kind === 'logSelector' ? selector(expr) : metric(expr)) as E;
}

/** The same guard for a bare list of matchers (series, labels, label values, index stats). */
export function injectTenantMatchers(
  matchers: readonly Matcher[],
  tenantLabel: string,
  tenant: string,
): Matcher[] {
  if (layerOff('query-injection')) return [...matchers]; // test-only fault injection (docs/security.md)
  return [...matchers, { name: tenantLabel, type: '=', value: tenant }];
}

/** Every stream selector's matchers in a query (for checks and tests). */
export function selectorsOf(expr: Expr): (readonly Matcher[])[] {
  const out: (readonly Matcher[])[] = [];
  const metric = (e: MetricExpr): void => {
    switch (e.kind) {
      case 'rangeAgg':
        out.push(e.range.selector.matchers);
        return;
      case 'vectorAgg':
      case 'labelReplace':
        metric(e.expr);
        return;
      case 'binary':
        metric(e.left);
        metric(e.right);
        return;
      default:
        return;
    }
  };
  if (expr.kind === 'logSelector') out.push(expr.matchers);
  else metric(expr);
  return out;
}
