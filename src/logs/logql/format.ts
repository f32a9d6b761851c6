import type { Matcher } from '../../model/matchers.ts';
import type { Expr, Grouping, LabelFilterExpr, LogRange, LogSelectorExpr, MetricExpr, Stage } from './ast.ts';
import { formatDurationMs } from './units.ts';

/** Renders an AST back to LogQL text (for messages, logs and tests). */
export function formatExpr(e: Expr): string {
  return e.kind === 'logSelector' ? formatLogSelector(e) : formatMetric(e);
}

const q = (s: string): string => JSON.stringify(s);

export function formatMatchers(ms: readonly Matcher[]): string {
  return `{${ms.map((m) => `${m.name}${m.type}${q(m.value)}`).join(', ')}}`;
}

function formatLabelFilter(f: LabelFilterExpr): string {
  switch (f.kind) {
    case 'and':
      return `${formatLabelFilter(f.left)} and ${formatLabelFilter(f.right)}`;
    case 'or':
      return `(${formatLabelFilter(f.left)} or ${formatLabelFilter(f.right)})`;
    case 'matcher':
      return `${f.matcher.name}${f.matcher.type}${q(f.matcher.value)}`;
    case 'number':
      return `${f.name} ${f.op} ${f.value}`;
    case 'duration':
    case 'bytes':
      return `${f.name} ${f.op} ${f.text}`;
    case 'ip':
      return `${f.name}${f.negate ? '!=' : '='}ip(${q(f.pattern)})`;
  }
}

function formatStage(s: Stage): string {
  switch (s.kind) {
    case 'lineFilter':
      return `${s.op} ${s.terms.map((t) => (t.ip ? `ip(${q(t.value)})` : q(t.value))).join(' or ')}`;
    case 'parser': {
      const flags = `${s.strict ? ' --strict' : ''}${s.keepEmpty ? ' --keep-empty' : ''}`;
      const ex = s.extractions?.length
        ? ' ' +
          s.extractions.map((x) => (x.expr === x.label ? x.label : `${x.label}=${q(x.expr)}`)).join(', ')
        : '';
      const param = s.param !== undefined ? ` ${q(s.param)}` : '';
      return `| ${s.parser}${flags}${param}${ex}`;
    }
    case 'labelFilter':
      return `| ${formatLabelFilter(s.filter)}`;
    case 'lineFormat':
      return `| line_format ${q(s.template)}`;
    case 'labelFormat':
      return `| label_format ${s.ops.map((o) => (o.src !== undefined ? `${o.dst}=${o.src}` : `${o.dst}=${q(o.template ?? '')}`)).join(', ')}`;
    case 'drop':
    case 'keep':
      return `| ${s.kind} ${s.items.map((i) => (i.matcher ? `${i.name}${i.matcher.type}${q(i.matcher.value)}` : i.name)).join(', ')}`;
    case 'decolorize':
      return '| decolorize';
  }
}

export function formatLogSelector(e: LogSelectorExpr): string {
  return [formatMatchers(e.matchers), ...e.pipeline.map(formatStage)].join(' ');
}

function formatRange(r: LogRange): string {
  let out = formatLogSelector(r.selector);
  if (r.unwrap) {
    const u = r.unwrap;
    out += ` | unwrap ${u.conversion ? `${u.conversion}(${u.label})` : u.label}`;
    for (const f of u.postFilters) out += ` | ${formatLabelFilter(f)}`;
  }
  out += ` [${formatDurationMs(r.rangeMs)}]`;
  if (r.offsetMs) out += ` offset ${formatDurationMs(r.offsetMs)}`;
  return out;
}

function formatGrouping(g: Grouping | undefined): string {
  return g ? ` ${g.without ? 'without' : 'by'} (${g.labels.join(', ')})` : '';
}

function formatMetric(e: MetricExpr): string {
  switch (e.kind) {
    case 'rangeAgg':
      return `${e.op}(${e.param !== undefined ? `${e.param}, ` : ''}${formatRange(e.range)})${formatGrouping(e.grouping)}`;
    case 'vectorAgg':
      return `${e.op}${formatGrouping(e.grouping)}(${e.param !== undefined ? `${e.param}, ` : ''}${formatMetric(e.expr)})`;
    case 'binary': {
      let mod = e.returnBool ? ' bool' : '';
      if (e.matching) {
        mod += ` ${e.matching.on ? 'on' : 'ignoring'}(${e.matching.labels.join(', ')})`;
        if (e.matching.group) mod += ` group_${e.matching.group}(${e.matching.include.join(', ')})`;
      }
      return `(${formatMetric(e.left)} ${e.op}${mod} ${formatMetric(e.right)})`;
    }
    case 'literal':
      return String(e.value);
    case 'vector':
      return `vector(${e.value})`;
    case 'labelReplace':
      return `label_replace(${formatMetric(e.expr)}, ${q(e.dst)}, ${q(e.replacement)}, ${q(e.src)}, ${q(e.regex)})`;
  }
}
