import type { Matcher } from '../model/matchers.ts';

/** The typed PromQL syntax tree Irin evaluates (built from the official lezer grammar's parse tree). */

export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** Byte offsets into the query text, for error messages. */
export interface PositionRange {
  readonly start: number;
  readonly end: number;
}

/** `@ <unix seconds>` (stored in ms), `@ start()` or `@ end()`. */
export type AtModifier =
  { readonly kind: 'time'; readonly ms: number } | { readonly kind: 'start' } | { readonly kind: 'end' };

export interface NumberLiteral {
  readonly type: 'NumberLiteral';
  readonly value: number;
  readonly pos: PositionRange;
}

export interface StringLiteral {
  readonly type: 'StringLiteral';
  readonly value: string;
  readonly pos: PositionRange;
}

export interface VectorSelector {
  readonly type: 'VectorSelector';
  /** The metric name written before the braces ('' when absent). */
  readonly name: string;
  /** Every matcher, including `__name__="<name>"` for a written name (last, as in Prometheus). */
  readonly matchers: readonly Matcher[];
  readonly offsetMs: number;
  readonly at?: AtModifier;
  readonly pos: PositionRange;
}

export interface MatrixSelector {
  readonly type: 'MatrixSelector';
  readonly selector: VectorSelector;
  readonly rangeMs: number;
  readonly pos: PositionRange;
}

export interface SubqueryExpr {
  readonly type: 'SubqueryExpr';
  readonly expr: Expr;
  readonly rangeMs: number;
  /** 0 when omitted (`[1h:]`): the engine's default subquery step is used. */
  readonly stepMs: number;
  readonly offsetMs: number;
  readonly at?: AtModifier;
  readonly pos: PositionRange;
}

export interface Call {
  readonly type: 'Call';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: PositionRange;
}

export const AGGREGATE_OPS = [
  'sum',
  'avg',
  'min',
  'max',
  'count',
  'group',
  'stddev',
  'stdvar',
  'topk',
  'bottomk',
  'quantile',
  'count_values',
] as const;
export type AggregateOp = (typeof AGGREGATE_OPS)[number];

export interface AggregateExpr {
  readonly type: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** The first argument of topk, bottomk, quantile and count_values. */
  readonly param?: Expr;
  readonly grouping: readonly string[];
  readonly without: boolean;
  readonly pos: PositionRange;
}

export type ArithmeticOp = '+' | '-' | '*' | '/' | '%' | '^' | 'atan2';
export type ComparisonOp = '==' | '!=' | '>' | '<' | '>=' | '<=';
export type SetOp = 'and' | 'or' | 'unless';
export type BinaryOp = ArithmeticOp | ComparisonOp | SetOp;

export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

export interface VectorMatching {
  readonly card: Cardinality;
  /** true for `on(...)`, false for `ignoring(...)` or no clause. */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** The labels listed in group_left(...) / group_right(...). */
  readonly include: readonly string[];
}

export interface BinaryExpr {
  readonly type: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  readonly returnBool: boolean;
  /** Present only when both sides are instant vectors. */
  readonly matching?: VectorMatching;
  readonly pos: PositionRange;
}

export interface UnaryExpr {
  readonly type: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PositionRange;
}

export interface ParenExpr {
  readonly type: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PositionRange;
}

export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | Call
  | AggregateExpr
  | BinaryExpr
  | UnaryExpr
  | ParenExpr;

export function isComparisonOp(op: BinaryOp): op is ComparisonOp {
  return op === '==' || op === '!=' || op === '>' || op === '<' || op === '>=' || op === '<=';
}

export function isSetOp(op: BinaryOp): op is SetOp {
  return op === 'and' || op === 'or' || op === 'unless';
}

/** Whether the operator removes the metric name from its result (arithmetic does, comparisons don't). */
export function dropsMetricName(op: BinaryOp): boolean {
  return op === '+' || op === '-' || op === '*' || op === '/' || op === '%' || op === '^';
}

/** The value type an expression evaluates to (the tree is assumed to have been type-checked). */
export function exprType(e: Expr, functionReturn: (name: string) => ValueType): ValueType {
  switch (e.type) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'Call':
      return functionReturn(e.func);
    case 'AggregateExpr':
      return 'vector';
    case 'BinaryExpr': {
      const l = exprType(e.lhs, functionReturn);
      const r = exprType(e.rhs, functionReturn);
      return l === 'scalar' && r === 'scalar' ? 'scalar' : 'vector';
    }
    case 'UnaryExpr':
    case 'ParenExpr':
      return exprType(e.expr, functionReturn);
  }
}

/** The direct sub-expressions of a node, in source order. */
export function children(e: Expr): Expr[] {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return [];
    case 'MatrixSelector':
      return [e.selector];
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
      return [e.expr];
    case 'Call':
      return [...e.args];
    case 'AggregateExpr':
      return e.param ? [e.param, e.expr] : [e.expr];
    case 'BinaryExpr':
      return [e.lhs, e.rhs];
  }
}

/** Rebuilds a tree bottom-up, replacing each node by what `fn` returns for it (children first). */
export function mapExpr(e: Expr, fn: (node: Expr) => Expr): Expr {
  switch (e.type) {
    case 'NumberLiteral':
    case 'StringLiteral':
    case 'VectorSelector':
      return fn(e);
    case 'MatrixSelector': {
      const selector = mapExpr(e.selector, fn);
      if (selector.type !== 'VectorSelector')
        throw new Error('a matrix selector must wrap a vector selector');
      return fn({ ...e, selector });
    }
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
      return fn({ ...e, expr: mapExpr(e.expr, fn) });
    case 'Call':
      return fn({ ...e, args: e.args.map((a) => mapExpr(a, fn)) });
    case 'AggregateExpr':
      return fn({
        ...e,
        expr: mapExpr(e.expr, fn),
        ...(e.param ? { param: mapExpr(e.param, fn) } : {}),
      });
    case 'BinaryExpr':
      return fn({ ...e, lhs: mapExpr(e.lhs, fn), rhs: mapExpr(e.rhs, fn) });
  }
}

/** Visits every node depth-first (parents before children) with the path of ancestors. */
export function walkExpr(
  e: Expr,
  visit: (node: Expr, path: readonly Expr[]) => void,
  path: Expr[] = [],
): void {
  visit(e, path);
  path.push(e);
  for (const c of children(e)) walkExpr(c, visit, path);
  path.pop();
}

/** Strips any number of enclosing parentheses. */
export function unwrapParens(e: Expr): Expr {
  while (e.type === 'ParenExpr') e = e.expr;
  return e;
}
