import { METRIC_NAME_LABEL } from '../model/labels.ts';
import type { Matcher } from '../model/matchers.ts';
import type { AtModifier, BinaryExpr, Expr, SubqueryExpr, VectorMatching, VectorSelector } from './ast.ts';
import { formatFloatG, formatPromDuration, goQuote } from './literals.ts';

/**
 * Prints an AST back as canonical PromQL: `formatExpr` on one line (Prometheus's String()),
 * `prettyExpr` split over lines beyond 100 characters (Prometheus's Pretty(), what
 * `/api/v1/format_query` answers).
 */

export function formatMatcher(m: Matcher): string {
  return `${m.name}${m.type}${goQuote(m.value)}`;
}

function offsetSuffix(ms: number): string {
  if (ms > 0) return ` offset ${formatPromDuration(ms)}`;
  if (ms < 0) return ` offset -${formatPromDuration(-ms)}`;
  return '';
}

function atSuffix(at: AtModifier | undefined): string {
  if (!at) return '';
  if (at.kind === 'start') return ' @ start()';
  if (at.kind === 'end') return ' @ end()';
  return ` @ ${(at.ms / 1000).toFixed(3)}`;
}

function selectorBody(vs: VectorSelector): string {
  const parts = vs.matchers
    .filter((m) => !(m.name === METRIC_NAME_LABEL && m.type === '=' && m.value === vs.name))
    .map(formatMatcher)
    .sort();
  return parts.length === 0 ? vs.name : `${vs.name}{${parts.join(',')}}`;
}

function matchingString(m: VectorMatching | undefined): string {
  if (!m || (m.labels.length === 0 && !m.on)) return '';
  let out = ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
  if (m.card === 'many-to-one' || m.card === 'one-to-many') {
    out += ` group_${m.card === 'many-to-one' ? 'left' : 'right'} (${m.include.join(', ')})`;
  }
  return out;
}

function binaryOperator(e: BinaryExpr): string {
  return `${e.op}${e.returnBool ? ' bool' : ''}${matchingString(e.matching)}`;
}

function aggregateHead(e: Extract<Expr, { type: 'AggregateExpr' }>): string {
  if (e.without) return `${e.op} without (${e.grouping.join(', ')}) `;
  if (e.grouping.length > 0) return `${e.op} by (${e.grouping.join(', ')}) `;
  return e.op;
}

function subquerySuffix(e: SubqueryExpr): string {
  const step = e.stepMs ? formatPromDuration(e.stepMs) : '';
  return `[${formatPromDuration(e.rangeMs)}:${step}]${atSuffix(e.at)}${offsetSuffix(e.offsetMs)}`;
}

export function formatExpr(e: Expr): string {
  switch (e.type) {
    case 'NumberLiteral':
      return formatFloatG(e.value);
    case 'StringLiteral':
      return goQuote(e.value);
    case 'VectorSelector':
      return `${selectorBody(e)}${atSuffix(e.at)}${offsetSuffix(e.offsetMs)}`;
    case 'MatrixSelector':
      return `${selectorBody(e.selector)}[${formatPromDuration(e.rangeMs)}]${atSuffix(e.selector.at)}${offsetSuffix(e.selector.offsetMs)}`;
    case 'SubqueryExpr':
      return `${formatExpr(e.expr)}${subquerySuffix(e)}`;
    case 'Call':
      return `${e.func}(${e.args.map(formatExpr).join(', ')})`;
    case 'AggregateExpr':
      return `${aggregateHead(e)}(${e.param ? formatExpr(e.param) + ', ' : ''}${formatExpr(e.expr)})`;
    case 'BinaryExpr':
      return `${formatExpr(e.lhs)} ${binaryOperator(e)} ${formatExpr(e.rhs)}`;
    case 'UnaryExpr':
      return `${e.op}${formatExpr(e.expr)}`;
    case 'ParenExpr':
      return `(${formatExpr(e.expr)})`;
  }
}

const MAX_LINE = 100;
const indent = (level: number): string => '  '.repeat(level);
const needsSplit = (e: Expr): boolean => formatExpr(e).length > MAX_LINE;

export function prettyExpr(e: Expr, level = 0): string {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
    case 'MatrixSelector':
      return indent(level) + formatExpr(e);
    case 'SubqueryExpr':
      if (!needsSplit(e)) return formatExpr(e);
      return `${prettyExpr(e.expr, level)}${subquerySuffix(e)}`;
    case 'UnaryExpr':
      return `${indent(level)}${e.op}${prettyExpr(e.expr, level).trim()}`;
    case 'ParenExpr':
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${indent(level)}(\n${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    case 'Call':
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${indent(level)}${e.func}(\n${e.args.map((a) => prettyExpr(a, level + 1)).join(',\n')}\n${indent(level)})`;
    case 'AggregateExpr': {
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      let out = `${indent(level)}${aggregateHead(e)}(\n`;
      if (e.param) out += `${prettyExpr(e.param, level + 1)},\n`;
      return `${out}${prettyExpr(e.expr, level + 1)}\n${indent(level)})`;
    }
    case 'BinaryExpr':
      if (!needsSplit(e)) return indent(level) + formatExpr(e);
      return `${prettyExpr(e.lhs, level + 1)}\n${indent(level)}${binaryOperator(e)}\n${prettyExpr(e.rhs, level + 1)}`;
  }
}
