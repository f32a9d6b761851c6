import { parser as lezerParser } from '@prometheus-io/lezer-promql';
import type { SyntaxNode } from '@lezer/common';
import type { Matcher, MatchType } from '../model/matchers.ts';
import { anchoredRegex, matchesEmpty } from '../model/matchers.ts';
import { METRIC_NAME_LABEL } from '../model/labels.ts';
import {
  AGGREGATE_OPS,
  exprType,
  isComparisonOp,
  isSetOp,
  type AggregateOp,
  type AtModifier,
  type BinaryOp,
  type Cardinality,
  type Expr,
  type NumberLiteral,
  type PositionRange,
  type SubqueryExpr,
  type ValueType,
  type VectorSelector,
} from './ast.ts';
import { FUNCTIONS, functionReturnType } from './function-signatures.ts';
import { parseNumberLiteral, parsePromDuration, unquoteString } from './literals.ts';

/**
 * PromQL text → typed AST, with Prometheus 2.x's grammar rules and error messages. The official
 * lezer grammar (made for editors) does the tokenising and the bulk of the structure; this module
 * corrects what it leaves loose: postfix modifiers (`[range]`, `offset`, `@`) bind tighter than
 * any operator, a signed number before `^` is a unary minus, durations need units, and everything
 * Prometheus 3 added to the grammar is refused.
 */

/** A query that does not parse or does not type-check (the API answers 400 bad_data). */
export class ParseError extends Error {
  constructor(
    readonly pos: PositionRange,
    readonly detail: string,
    query: string,
  ) {
    super(`${positionString(query, pos.start)} parse error: ${detail}`);
    this.name = 'ParseError';
  }
}

function positionString(query: string, pos: number): string {
  if (pos < 0 || pos > query.length) return 'invalid position:';
  let line = 1;
  let lastBreak = -1;
  for (let i = 0; i < pos; i++) {
    if (query[i] === '\n') {
      line++;
      lastBreak = i;
    }
  }
  return `${line}:${pos - lastBreak}:`;
}

// Prometheus 2.x still calls double_exponential_smoothing by its old name, holt_winters; the
// current grammar only knows the new one, so its identifier specializer learns the old alias
// (returning the token term that the grammar's own table gives the new name).
const configuredParser = (() => {
  type Spec = { external?: unknown; extend?: boolean; get: (value: string, stack: unknown) => number };
  const specs = (lezerParser as unknown as { specializerSpecs: Spec[] }).specializerSpecs;
  const extendSpec = specs.find((s) => s.extend && typeof s.external === 'function');
  const table = specs.find((s) => !s.external);
  const encoded = table?.get('double_exponential_smoothing', null) ?? -1;
  if (!extendSpec || encoded < 0) return lezerParser;
  const smoothingToken = encoded >> 1;
  type Stack = { canShift(term: number): boolean };
  const original = extendSpec.external as (value: string, stack: Stack) => number;
  return lezerParser.configure({
    specializers: [
      {
        from: original as never,
        to: ((value: string, stack: Stack) =>
          value === 'holt_winters' && stack.canShift(smoothingToken)
            ? smoothingToken
            : original(value, stack)) as never,
      },
    ],
  });
})();

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Atan2: 'atan2',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const MATCH_OPS: Record<string, MatchType> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const DOCUMENTED_TYPE: Record<ValueType, string> = {
  scalar: 'scalar',
  vector: 'instant vector',
  matrix: 'range vector',
  string: 'string',
};

const EXPR_NODES = new Set([
  'AggregateExpr',
  'BinaryExpr',
  'FunctionCall',
  'MatrixSelector',
  'NumberDurationLiteral',
  'OffsetExpr',
  'AnchoredExpr',
  'SmoothedExpr',
  'ParenExpr',
  'StringLiteral',
  'SubqueryExpr',
  'UnaryExpr',
  'VectorSelector',
  'StepInvariantExpr',
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Converter {
  constructor(
    private readonly query: string,
    /** match[] selectors are checked for an empty-matching set by the API, with its own message. */
    private readonly allowEmptySelector = false,
  ) {}

  fail(pos: PositionRange | SyntaxNode, detail: string): never {
    const range = 'from' in pos ? { start: pos.from, end: pos.to } : pos;
    throw new ParseError(range, detail, this.query);
  }

  text(node: SyntaxNode): string {
    return this.query.slice(node.from, node.to);
  }

  range(node: SyntaxNode): PositionRange {
    return { start: node.from, end: node.to };
  }

  kids(node: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = node.firstChild; c; c = c.nextSibling) if (c.name !== 'LineComment') out.push(c);
    return out;
  }

  exprKids(node: SyntaxNode): SyntaxNode[] {
    return this.kids(node).filter((c) => EXPR_NODES.has(c.name));
  }

  /** Reports the first syntax error of the lezer tree in Prometheus's wording where it can. */
  checkSyntax(root: SyntaxNode): void {
    let firstError: SyntaxNode | null = null;
    const cursor = root.cursor();
    do {
      if (cursor.type.isError) {
        firstError = cursor.node;
        break;
      }
    } while (cursor.next());
    if (!firstError) return;
    const prev = firstError.prevSibling;
    const errText = this.text(firstError);
    if (prev?.name === 'Identifier' && this.query.slice(firstError.from).trimStart().startsWith('(')) {
      this.fail(prev, `unknown function with name ${JSON.stringify(this.text(prev))}`);
    }
    if (firstError.from >= this.query.trimEnd().length) this.fail(firstError, 'unexpected end of input');
    const token = (errText || this.query.slice(firstError.from)).trim().split(/\s+/)[0] ?? '';
    this.fail(firstError, `unexpected ${JSON.stringify(token.slice(0, 40))}`);
  }

  convert(node: SyntaxNode): Expr {
    switch (node.name) {
      case 'NumberDurationLiteral':
        return this.numberLiteral(node);
      case 'StringLiteral':
        return { type: 'StringLiteral', value: this.string(node), pos: this.range(node) };
      case 'VectorSelector':
        return this.vectorSelector(node);
      case 'MatrixSelector':
        return this.matrixSelector(node);
      case 'SubqueryExpr':
        return this.subquery(node);
      case 'OffsetExpr':
        return this.offsetExpr(node);
      case 'StepInvariantExpr':
        return this.atExpr(node);
      case 'FunctionCall':
        return this.functionCall(node);
      case 'AggregateExpr':
        return this.aggregate(node);
      case 'BinaryExpr':
        return this.binary(node);
      case 'UnaryExpr':
        return this.unary(node);
      case 'ParenExpr': {
        const [inner] = this.exprKids(node);
        if (!inner) this.fail(node, 'unexpected ")"');
        return { type: 'ParenExpr', expr: this.convert(inner), pos: this.range(node) };
      }
      case 'AnchoredExpr':
      case 'SmoothedExpr':
        return this.fail(
          node,
          `${node.name === 'AnchoredExpr' ? 'anchored' : 'smoothed'} modifier is not supported`,
        );
      default:
        return this.fail(node, `unexpected ${JSON.stringify(this.text(node))}`);
    }
  }

  string(node: SyntaxNode): string {
    try {
      return unquoteString(this.text(node));
    } catch (err) {
      const msg = (err as Error).message;
      if (msg === 'unterminated quoted string') return this.fail(node, 'unterminated quoted string');
      return this.fail(node, `error unquoting string ${JSON.stringify(this.text(node))}: ${msg}`);
    }
  }

  numberLiteral(node: SyntaxNode): NumberLiteral {
    const text = this.text(node);
    const sign = text[0] === '-' || text[0] === '+' ? text[0] : '';
    const body = text.slice(sign.length).trim();
    const value = parseNumberLiteral(body);
    if (value === undefined) {
      if (parsePromDuration(body) !== undefined)
        this.fail(node, `unexpected duration ${JSON.stringify(body)}`);
      this.fail(node, `bad number syntax: ${JSON.stringify(body)}`);
    }
    return { type: 'NumberLiteral', value: sign === '-' ? -value : value, pos: this.range(node) };
  }

  duration(node: SyntaxNode, what: string): number {
    const kids = this.kids(node);
    const lit = kids[0];
    if (kids.length !== 1 || !lit || lit.name !== 'NumberDurationLiteralInDurationContext') {
      this.fail(node, `unexpected ${JSON.stringify(this.text(node))} in ${what}, expected duration`);
    }
    const text = this.text(lit);
    if (/^\d+$/.test(text)) this.fail(lit, 'missing unit character in duration');
    const ms = parsePromDuration(text);
    if (ms === undefined) this.fail(lit, `bad duration syntax: ${JSON.stringify(text)}`);
    if (ms === 0) this.fail(lit, 'duration must be greater than 0');
    return ms;
  }

  offsetDuration(node: SyntaxNode): number {
    const kids = this.kids(node);
    if (kids[0]?.name === 'UnaryOp') {
      const inner = kids[1];
      if (this.text(kids[0]) !== '-' || !inner || this.kids(inner)[0]?.name === 'UnaryOp') {
        this.fail(node, `unexpected ${JSON.stringify(this.text(kids[0]))} in offset, expected duration`);
      }
      return -this.duration(inner, 'offset');
    }
    return this.duration(node, 'offset');
  }

  vectorSelector(node: SyntaxNode): VectorSelector {
    let name = '';
    const matchers: Matcher[] = [];
    for (const c of this.kids(node)) {
      if (c.name === 'Identifier') name = this.text(c);
      else if (c.name === 'LabelMatchers') {
        for (const m of this.kids(c)) matchers.push(this.labelMatcher(m));
      } else this.fail(c, `unexpected ${JSON.stringify(this.text(c))}`);
    }
    const pos = this.range(node);
    if (name !== '') {
      const dup = matchers.find((m) => m.name === METRIC_NAME_LABEL);
      if (dup)
        this.fail(
          pos,
          `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(dup.value)}`,
        );
      matchers.push({ name: METRIC_NAME_LABEL, type: '=', value: name });
    } else if (!this.allowEmptySelector && !matchers.some((m) => !matchesEmpty(m))) {
      this.fail(pos, 'vector selector must contain at least one non-empty matcher');
    }
    return { type: 'VectorSelector', name, matchers, offsetMs: 0, pos };
  }

  labelMatcher(node: SyntaxNode): Matcher {
    if (node.name !== 'UnquotedLabelMatcher') {
      this.fail(node, `unexpected ${JSON.stringify(this.text(node))} in label matching, expected label name`);
    }
    const [label, op, value] = this.kids(node);
    if (!label || !op || !value) this.fail(node, 'unexpected end of label matcher');
    const opKind = this.kids(op)[0]?.name ?? '';
    const type = MATCH_OPS[opKind];
    if (!type)
      this.fail(
        op,
        `unexpected ${JSON.stringify(this.text(op))} in label matching, expected label matching operator`,
      );
    const matcher: Matcher = { name: this.text(label), type, value: this.string(value) };
    if (type === '=~' || type === '!~') {
      try {
        anchoredRegex(matcher.value);
      } catch (err) {
        this.fail({ start: label.from, end: value.to }, `error parsing regexp: ${(err as Error).message}`);
      }
    }
    return matcher;
  }

  /**
   * Applies a postfix construct (range, subquery, offset, @) to its operand. The lezer grammar
   * lets these wrap a whole binary or unary expression; in PromQL they bind to the rightmost
   * operand, so the construct is pushed down into it.
   */
  postfix(operand: Expr, apply: (e: Expr) => Expr): Expr {
    if (operand.type === 'BinaryExpr') return { ...operand, rhs: this.postfix(operand.rhs, apply) };
    if (operand.type === 'UnaryExpr') return { ...operand, expr: this.postfix(operand.expr, apply) };
    return apply(operand);
  }

  matrixSelector(node: SyntaxNode): Expr {
    const [target, dur] = this.kids(node);
    if (!target || !dur) return this.fail(node, 'unexpected end of input in subquery or range');
    const rangeMs = this.duration(dur, 'subquery or range');
    return this.postfix(this.convert(target), (e) => {
      const errPos = { start: dur.from - 1, end: node.to };
      if (e.type !== 'VectorSelector') this.fail(errPos, 'ranges only allowed for vector selectors');
      if (e.offsetMs !== 0) this.fail(errPos, 'no offset modifiers allowed before range');
      if (e.at) this.fail(errPos, 'no @ modifiers allowed before range');
      return { type: 'MatrixSelector', selector: e, rangeMs, pos: { start: e.pos.start, end: node.to } };
    });
  }

  subquery(node: SyntaxNode): Expr {
    const [target, rangeNode, stepNode] = this.kids(node);
    if (!target || !rangeNode) return this.fail(node, 'unexpected end of input in subquery');
    const rangeMs = this.duration(rangeNode, 'subquery selector');
    const stepMs = stepNode ? this.duration(stepNode, 'subquery selector') : 0;
    return this.postfix(this.convert(target), (e) => ({
      type: 'SubqueryExpr',
      expr: e,
      rangeMs,
      stepMs,
      offsetMs: 0,
      pos: { start: e.pos.start, end: node.to },
    }));
  }

  /**
   * Applies `offset` or `@` to the selector or subquery it follows (through a matrix selector to
   * its vector selector); anything else, or a modifier given twice, is an error.
   */
  modifier(
    node: SyntaxNode,
    target: SyntaxNode,
    twice: string,
    misplaced: string,
    isSet: (e: VectorSelector | SubqueryExpr) => boolean,
    set: <T extends VectorSelector | SubqueryExpr>(e: T) => T,
  ): Expr {
    return this.postfix(this.convert(target), (e) => {
      const pos = { start: e.pos.start, end: node.to };
      switch (e.type) {
        case 'VectorSelector':
        case 'SubqueryExpr':
          if (isSet(e)) this.fail(e.pos, twice);
          return { ...set(e), pos };
        case 'MatrixSelector':
          if (isSet(e.selector)) this.fail(e.pos, twice);
          return { ...e, selector: set(e.selector), pos };
        default:
          return this.fail(
            e.pos,
            `${misplaced} must be preceded by an instant vector selector or range vector selector or a subquery`,
          );
      }
    });
  }

  offsetExpr(node: SyntaxNode): Expr {
    const kids = this.kids(node);
    const target = kids[0];
    const durNode = kids.find((k) => k.name === 'OffsetDurationExpr');
    if (!target || !durNode) return this.fail(node, 'unexpected end of input in offset, expected duration');
    const offsetMs = this.offsetDuration(durNode);
    return this.modifier(
      node,
      target,
      'offset may not be set multiple times',
      'offset modifier',
      (e) => e.offsetMs !== 0,
      (e) => ({ ...e, offsetMs }),
    );
  }

  atExpr(node: SyntaxNode): Expr {
    const kids = this.kids(node);
    const target = kids[0];
    const value = kids[2];
    if (!target || !value) return this.fail(node, 'unexpected end of input in @, expected timestamp');
    let at: AtModifier;
    if (value.name === 'AtModifierPreprocessors') {
      at = this.kids(value)[0]?.name === 'AtStart' ? { kind: 'start' } : { kind: 'end' };
    } else if (value.name === 'NumberDurationLiteral') {
      const seconds = this.numberLiteral(value).value;
      if (!Number.isFinite(seconds) || Math.abs(seconds * 1000) >= 2 ** 63) {
        this.fail(node, `timestamp out of bounds for @ modifier: ${seconds}`);
      }
      at = { kind: 'time', ms: Math.round(seconds * 1000) };
    } else {
      return this.fail(value, `unexpected ${JSON.stringify(this.text(value))} in @, expected timestamp`);
    }
    return this.modifier(
      node,
      target,
      '@ <timestamp> may not be set multiple times',
      '@ modifier',
      (e) => e.at !== undefined,
      (e) => ({ ...e, at }),
    );
  }

  callArgs(body: SyntaxNode | undefined): Expr[] {
    if (!body) return [];
    return this.exprKids(body).map((a) => this.convert(a));
  }

  functionCall(node: SyntaxNode): Expr {
    const [ident, body] = this.kids(node);
    if (!ident) return this.fail(node, 'unexpected function call');
    const name = this.text(ident);
    if (!FUNCTIONS.has(name)) this.fail(ident, `unknown function with name ${JSON.stringify(name)}`);
    return { type: 'Call', func: name, args: this.callArgs(body), pos: this.range(node) };
  }

  groupingLabels(node: SyntaxNode): string[] {
    return this.kids(node).map((c) => {
      if (c.name !== 'LabelName')
        this.fail(c, `unexpected ${JSON.stringify(this.text(c))} in grouping opts, expected label`);
      return this.text(c);
    });
  }

  aggregate(node: SyntaxNode): Expr {
    const kids = this.kids(node);
    const opNode = kids.find((k) => k.name === 'AggregateOp');
    const modifier = kids.find((k) => k.name === 'AggregateModifier');
    const body = kids.find((k) => k.name === 'FunctionCallBody');
    const opText = opNode ? this.text(opNode).toLowerCase() : '';
    if (!(AGGREGATE_OPS as readonly string[]).includes(opText)) {
      this.fail(opNode ?? node, `unknown aggregation operator ${JSON.stringify(opText)}`);
    }
    const op = opText as AggregateOp;
    let grouping: string[] = [];
    let without = false;
    if (modifier) {
      const [kw, labels] = this.kids(modifier);
      without = kw?.name === 'Without';
      grouping = labels ? this.groupingLabels(labels) : [];
    }
    const args = this.callArgs(body);
    const pos = this.range(node);
    if (args.length === 0) this.fail(pos, 'no arguments for aggregate expression provided');
    const withParam = op === 'topk' || op === 'bottomk' || op === 'quantile' || op === 'count_values';
    const wanted = withParam ? 2 : 1;
    if (args.length !== wanted) {
      this.fail(
        pos,
        `wrong number of arguments for aggregate expression provided, expected ${wanted}, got ${args.length}`,
      );
    }
    return {
      type: 'AggregateExpr',
      op,
      expr: args[wanted - 1]!,
      ...(withParam ? { param: args[0]! } : {}),
      grouping,
      without,
      pos,
    };
  }

  binary(node: SyntaxNode): Expr {
    const kids = this.kids(node);
    const exprs = kids.filter((k) => EXPR_NODES.has(k.name));
    const opNode = kids.find((k) => k.name in BINARY_OPS || k.name === 'TrimUpper' || k.name === 'TrimLower');
    const [lhsNode, rhsNode] = exprs;
    if (!lhsNode || !rhsNode || !opNode) return this.fail(node, 'unexpected end of input');
    const op = BINARY_OPS[opNode.name];
    if (!op) return this.fail(opNode, `unexpected operator ${JSON.stringify(this.text(opNode))}`);
    const returnBool = kids.some((k) => k.name === 'BoolModifier');
    const fill = kids.find((k) => k.name === 'FillModifier');
    if (fill) this.fail(fill, 'fill modifiers are not supported');
    let card: Cardinality = 'one-to-one';
    let on = false;
    let labels: string[] = [];
    let include: string[] = [];
    const clause = kids.find((k) => k.name === 'MatchingModifierClause');
    if (clause) {
      const parts = this.kids(clause);
      on = parts[0]?.name === 'On';
      labels = parts[1] ? this.groupingLabels(parts[1]) : [];
      const group = parts[2];
      if (group) {
        card = group.name === 'GroupLeft' ? 'many-to-one' : 'one-to-many';
        include = parts[3] ? this.groupingLabels(parts[3]) : [];
      }
    }
    if (isSetOp(op) && card === 'one-to-one') card = 'many-to-many';
    let lhs = this.convert(lhsNode);
    const rhs = this.convert(rhsNode);
    const pos = this.range(node);
    const matching = { card, on, labels, include };
    const result: Mutable<Extract<Expr, { type: 'BinaryExpr' }>> = {
      type: 'BinaryExpr',
      op,
      lhs,
      rhs,
      returnBool,
      matching,
      pos,
    };
    // In PromQL `-2 ^ 2` is -(2 ^ 2): the sign is a unary operator, weaker than `^`.
    if (
      op === '^' &&
      lhsNode.name === 'NumberDurationLiteral' &&
      /^[-+]/.test(this.text(lhsNode)) &&
      lhs.type === 'NumberLiteral'
    ) {
      const sign = this.text(lhsNode)[0] as '-' | '+';
      lhs = { ...lhs, value: Math.abs(lhs.value), pos: { start: lhs.pos.start + 1, end: lhs.pos.end } };
      result.lhs = lhs;
      return { type: 'UnaryExpr', op: sign, expr: result, pos };
    }
    return result;
  }

  unary(node: SyntaxNode): Expr {
    const [opNode, operand] = this.kids(node);
    if (!opNode || !operand) return this.fail(node, 'unexpected end of input');
    const op = this.text(opNode) === '-' ? '-' : '+';
    const inner = this.convert(operand);
    if (inner.type === 'NumberLiteral') {
      return { ...inner, value: op === '-' ? -inner.value : inner.value, pos: this.range(node) };
    }
    return { type: 'UnaryExpr', op, expr: inner, pos: this.range(node) };
  }
}

/** Type checks a converted tree the way Prometheus's checkAST does; returns the expression's type. */
class TypeChecker {
  constructor(private readonly query: string) {}

  fail(pos: PositionRange, detail: string): never {
    throw new ParseError(pos, detail, this.query);
  }

  typeOf(e: Expr): ValueType {
    return exprType(e, functionReturnType);
  }

  expect(e: Expr, want: ValueType, context: string): void {
    const got = this.check(e);
    if (got !== want) {
      this.fail(e.pos, `expected type ${DOCUMENTED_TYPE[want]} in ${context}, got ${DOCUMENTED_TYPE[got]}`);
    }
  }

  check(e: Expr): ValueType {
    switch (e.type) {
      case 'NumberLiteral':
      case 'StringLiteral':
      case 'VectorSelector':
        return this.typeOf(e);
      case 'MatrixSelector':
        this.check(e.selector);
        return 'matrix';
      case 'ParenExpr':
        return this.check(e.expr);
      case 'SubqueryExpr': {
        const t = this.check(e.expr);
        if (t !== 'vector')
          this.fail(e.pos, `subquery is only allowed on instant vector, got ${DOCUMENTED_TYPE[t]} instead`);
        return 'matrix';
      }
      case 'UnaryExpr': {
        const t = this.check(e.expr);
        if (t !== 'scalar' && t !== 'vector') {
          this.fail(
            e.pos,
            `unary expression only allowed on expressions of type scalar or instant vector, got "${DOCUMENTED_TYPE[t]}"`,
          );
        }
        return t;
      }
      case 'AggregateExpr':
        this.expect(e.expr, 'vector', 'aggregation expression');
        if (e.param)
          this.expect(e.param, e.op === 'count_values' ? 'string' : 'scalar', 'aggregation parameter');
        return 'vector';
      case 'Call':
        return this.checkCall(e);
      case 'BinaryExpr':
        return this.checkBinary(e);
    }
  }

  checkCall(e: Extract<Expr, { type: 'Call' }>): ValueType {
    const f = FUNCTIONS.get(e.func)!;
    const n = f.args.length;
    if (f.variadic === 0) {
      if (n !== e.args.length) {
        this.fail(
          e.pos,
          `expected ${n} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`,
        );
      }
    } else {
      const required = n - 1;
      if (required > e.args.length) {
        this.fail(
          e.pos,
          `expected at least ${required} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`,
        );
      } else if (f.variadic > 0 && required + f.variadic < e.args.length) {
        this.fail(
          e.pos,
          `expected at most ${required + f.variadic} argument(s) in call to ${JSON.stringify(e.func)}, got ${e.args.length}`,
        );
      }
    }
    e.args.forEach((arg, i) => {
      const want = f.args[Math.min(i, n - 1)];
      if (want === undefined) return;
      this.expect(arg, want, `call to function ${JSON.stringify(e.func)}`);
    });
    return f.returns;
  }

  checkBinary(e: Extract<Expr, { type: 'BinaryExpr' }>): ValueType {
    const lt = this.check(e.lhs);
    const rt = this.check(e.rhs);
    const opPos = { start: e.lhs.pos.end, end: e.rhs.pos.start };
    if (e.returnBool && !isComparisonOp(e.op))
      this.fail(opPos, 'bool modifier can only be used on comparison operators');
    if (isComparisonOp(e.op) && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
      this.fail(opPos, 'comparisons between scalars must use BOOL modifier');
    }
    const m = e.matching;
    if (m && m.on) {
      for (const l of m.labels) {
        if (m.include.includes(l))
          this.fail(opPos, `label "${l}" must not occur in ON and GROUP clause at once`);
      }
    }
    if (lt !== 'scalar' && lt !== 'vector')
      this.fail(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (rt !== 'scalar' && rt !== 'vector')
      this.fail(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
    if (lt !== 'vector' || rt !== 'vector') {
      if (m && (m.labels.length > 0 || m.on))
        this.fail(e.pos, 'vector matching only allowed between instant vectors');
    } else if (isSetOp(e.op) && m) {
      if (m.card === 'one-to-many' || m.card === 'many-to-one')
        this.fail(e.pos, `no grouping allowed for "${e.op}" operation`);
    }
    if ((lt === 'scalar' || rt === 'scalar') && isSetOp(e.op)) {
      this.fail(e.pos, `set operator "${e.op}" not allowed in binary scalar expression`);
    }
    return lt === 'scalar' && rt === 'scalar' ? 'scalar' : 'vector';
  }
}

/** Drops the vector matching of binary expressions that are not between two instant vectors. */
function normaliseMatching(e: Expr): Expr {
  switch (e.type) {
    case 'BinaryExpr': {
      const lhs = normaliseMatching(e.lhs);
      const rhs = normaliseMatching(e.rhs);
      const both =
        exprType(lhs, functionReturnType) === 'vector' && exprType(rhs, functionReturnType) === 'vector';
      const { matching, ...rest } = e;
      return both ? { ...rest, lhs, rhs, ...(matching ? { matching } : {}) } : { ...rest, lhs, rhs };
    }
    case 'Call':
      return { ...e, args: e.args.map(normaliseMatching) };
    case 'AggregateExpr':
      return {
        ...e,
        expr: normaliseMatching(e.expr),
        ...(e.param ? { param: normaliseMatching(e.param) } : {}),
      };
    case 'SubqueryExpr':
    case 'UnaryExpr':
    case 'ParenExpr':
      return { ...e, expr: normaliseMatching(e.expr) };
    default:
      return e;
  }
}

/** Parses and type-checks a PromQL expression. Throws ParseError. */
export function parseExpr(query: string): Expr {
  return parseWith(new Converter(query), query);
}

function parseWith(conv: Converter, query: string): Expr {
  const tree = configuredParser.parse(query);
  const root = tree.topNode;
  const top = conv.exprKids(root);
  if (top.length === 0 && query.replace(/#[^\n]*/g, '').trim() === '') {
    throw new ParseError({ start: 0, end: 0 }, 'no expression found in input', query);
  }
  conv.checkSyntax(root);
  if (top.length !== 1) throw new ParseError({ start: 0, end: query.length }, 'unexpected expression', query);
  const expr = conv.convert(top[0]!);
  new TypeChecker(query).check(expr);
  return normaliseMatching(expr);
}

/** Parses a series selector such as `up{job="x"}` (the `match[]` parameter). Throws ParseError. */
export function parseSeriesSelector(text: string): VectorSelector {
  const expr = parseWith(new Converter(text, true), text);
  if (expr.type !== 'VectorSelector' || expr.offsetMs !== 0 || expr.at) {
    throw new ParseError(
      { start: 0, end: text.length },
      `unexpected expression, expected a series selector`,
      text,
    );
  }
  return expr;
}

export function expressionType(e: Expr): ValueType {
  return exprType(e, functionReturnType);
}
