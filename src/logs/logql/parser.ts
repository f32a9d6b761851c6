import type { SyntaxNode } from '@lezer/common';
import { parser as lezer } from '@grafana/lezer-logql';
import { isValidLabelName } from '../../model/labels.ts';
import type { Matcher, MatchType } from '../../model/matchers.ts';
import { readGoString, StreamLabelsError } from '../push/stream-selector.ts';
import type {
  BinaryExpr,
  BinaryOp,
  CompareOp,
  Expr,
  Grouping,
  LabelExtraction,
  LabelFilterExpr,
  LabelFormatOp,
  LabelSelection,
  LineFilterOp,
  LineFilterTerm,
  LogRange,
  LogSelectorExpr,
  MetricExpr,
  RangeOp,
  Stage,
  Unwrap,
  UnwrapConversion,
  VectorMatching,
  VectorOp,
} from './ast.ts';
import { goRegexToJs, inlineFlags, RegexSyntaxError } from './regex.ts';
import { compileTemplate } from './template.ts';
import { parseBytes, parseGoDuration } from './units.ts';

/** A query Irin cannot parse or does not accept; the HTTP layer answers 400 with the message. */
export class LogQLParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogQLParseError';
  }
}

const RANGE_OPS = new Set<string>([
  'count_over_time',
  'rate',
  'rate_counter',
  'bytes_over_time',
  'bytes_rate',
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'absent_over_time',
]);
const UNWRAP_REQUIRED = new Set<RangeOp>([
  'avg_over_time',
  'sum_over_time',
  'min_over_time',
  'max_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'quantile_over_time',
  'first_over_time',
  'last_over_time',
  'rate_counter',
]);
const UNWRAP_FORBIDDEN = new Set<RangeOp>([
  'count_over_time',
  'bytes_over_time',
  'bytes_rate',
  'absent_over_time',
]);

const BIN_PRECEDENCE: Record<BinaryOp, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  '^': 6,
};

const BIN_OP_NODES: Record<string, BinaryOp> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Gte: '>=',
  Lss: '<',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const COMPARE_NODES: Record<string, CompareOp> = {
  Eq: '==',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Gte: '>=',
  Lss: '<',
  Lte: '<=',
};

const MATCH_NODES: Record<string, MatchType> = { Eq: '=', Neq: '!=', Re: '=~', Nre: '!~' };

const LINE_FILTER_NODES: Record<string, LineFilterOp> = {
  PipeExact: '|=',
  Neq: '!=',
  PipeMatch: '|~',
  Nre: '!~',
  PipePattern: '|>',
  Npa: '!>',
};

interface Operand {
  readonly expr: MetricExpr;
}

/** Parses a LogQL query into Irin's AST; throws LogQLParseError naming the problem. */
export function parseLogQL(query: string): Expr {
  return new Builder(query).build();
}

/** Parses a query that must be a stream selector with no pipeline (series, labels, stats `match`). */
export function parseStreamSelector(query: string): readonly Matcher[] {
  const expr = parseLogQL(query);
  if (expr.kind !== 'logSelector')
    throw new LogQLParseError(`expected a stream selector such as {job="x"}, got a metric query`);
  if (expr.pipeline.length > 0)
    throw new LogQLParseError(
      'only a stream selector is allowed here, without line filters or pipeline stages',
    );
  return expr.matchers;
}

class Builder {
  constructor(private readonly src: string) {}

  build(): Expr {
    if (this.src.trim() === '') throw new LogQLParseError('the query is empty');
    const tree = lezer.parse(this.src);
    let errorAt = -1;
    tree.iterate({
      enter: (n) => {
        if (errorAt < 0 && n.type.isError) errorAt = n.from;
        return errorAt < 0;
      },
    });
    if (errorAt >= 0) throw this.syntaxError(errorAt);
    const top = tree.topNode;
    const expr = top.getChild('Expr');
    if (!expr) throw this.syntaxError(0);
    return this.expr(expr);
  }

  private syntaxError(pos: number): LogQLParseError {
    const before = this.src.slice(0, pos);
    const line = before.split('\n').length;
    const col = pos - before.lastIndexOf('\n');
    const rest = this.src.slice(pos).trimStart();
    const near =
      rest === '' ? 'end of query' : JSON.stringify(rest.length > 20 ? rest.slice(0, 20) + '…' : rest);
    return new LogQLParseError(`parse error at line ${line}, col ${col}: syntax error: unexpected ${near}`);
  }

  private fail(node: SyntaxNode, message: string): never {
    const before = this.src.slice(0, node.from);
    const line = before.split('\n').length;
    const col = node.from - before.lastIndexOf('\n');
    throw new LogQLParseError(`parse error at line ${line}, col ${col}: ${message}`);
  }

  private text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  private kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) out.push(c);
    return out;
  }

  private need(n: SyntaxNode, name: string): SyntaxNode {
    const c = n.getChild(name);
    if (!c) this.fail(n, `expected ${name} in ${JSON.stringify(this.text(n))}`);
    return c;
  }

  private string(n: SyntaxNode): string {
    try {
      const raw = this.text(n);
      const { value, end } = readGoString(raw, 0);
      if (end !== raw.length) this.fail(n, `malformed string ${raw}`);
      return value;
    } catch (err) {
      if (err instanceof StreamLabelsError) this.fail(n, err.message);
      throw err;
    }
  }

  private expr(n: SyntaxNode): Expr {
    const inner = n.firstChild;
    if (!inner) this.fail(n, 'empty expression');
    if (inner.name === 'LogExpr') return this.logExpr(inner);
    if (inner.name === 'MetricExpr') return this.metricExpr(inner);
    this.fail(inner, `unexpected ${inner.name}`);
  }

  // ------------------------------------------------------------ log queries

  private logExpr(n: SyntaxNode): LogSelectorExpr {
    const nested = n.getChild('LogExpr');
    if (nested) return this.logExpr(nested);
    const selector = this.need(n, 'Selector');
    const pipeline = n.getChild('PipelineExpr');
    return {
      kind: 'logSelector',
      matchers: this.selector(selector),
      pipeline: pipeline ? this.pipeline(pipeline) : [],
    };
  }

  private selector(n: SyntaxNode): Matcher[] {
    const list = n.getChild('Matchers');
    const out: Matcher[] = [];
    const walk = (m: SyntaxNode): void => {
      for (const c of this.kids(m)) {
        if (c.name === 'Matchers') walk(c);
        else if (c.name === 'Matcher') out.push(this.matcher(c));
      }
    };
    if (list) walk(list);
    if (out.length === 0) this.fail(n, 'a stream selector needs at least one label matcher, e.g. {job="x"}');
    if (out.every((m) => matchesEmptyString(m))) {
      this.fail(
        n,
        'a stream selector needs at least one matcher that cannot match an empty value, e.g. {app=~".+"} rather than {app=~".*"}',
      );
    }
    return out;
  }

  private matcher(n: SyntaxNode): Matcher {
    const id = this.need(n, 'Identifier');
    const str = n.getChild('String');
    let type: MatchType | undefined;
    for (const c of this.kids(n)) if (MATCH_NODES[c.name]) type = MATCH_NODES[c.name];
    if (!type || !str) this.fail(n, `malformed label matcher ${JSON.stringify(this.text(n))}`);
    const name = this.text(id);
    let value = this.string(str);
    if (type === '=~' || type === '!~') value = this.anchoredRegexSource(str, value);
    return { name, type, value };
  }

  /** Go regex → flag-free JS source for anchored matching. */
  private anchoredRegexSource(node: SyntaxNode, go: string): string {
    try {
      return inlineFlags(goRegexToJs(go));
    } catch (err) {
      if (err instanceof RegexSyntaxError) this.fail(node, err.message);
      throw err;
    }
  }

  private pipeline(n: SyntaxNode): Stage[] {
    const stages: Stage[] = [];
    const walk = (p: SyntaxNode): void => {
      for (const c of this.kids(p)) {
        if (c.name === 'PipelineExpr') walk(c);
        else if (c.name === 'PipelineStage') stages.push(...this.stage(c));
      }
    };
    walk(n);
    return stages;
  }

  private stage(n: SyntaxNode): Stage[] {
    const filters = n.getChild('LineFilters');
    if (filters) return this.lineFilters(filters);
    for (const c of this.kids(n)) {
      switch (c.name) {
        case 'Pipe':
          continue;
        case 'LabelParser':
          return [this.labelParser(c)];
        case 'LogfmtParser':
        case 'LogfmtExpressionParser':
          return [this.logfmtParser(c)];
        case 'JsonExpressionParser':
          return [
            {
              kind: 'parser',
              parser: 'json',
              extractions: this.extractions(this.need(c, 'LabelExtractionExpressionList'), 'json'),
            },
          ];
        case 'LabelFilter':
          return [{ kind: 'labelFilter', filter: this.labelFilter(c) }];
        case 'LineFormatExpr': {
          const template = this.string(this.need(c, 'String'));
          this.checkTemplate(c, template);
          return [{ kind: 'lineFormat', template }];
        }
        case 'LabelFormatExpr':
          return [this.labelFormat(c)];
        case 'DropLabelsExpr':
          return [
            {
              kind: 'drop',
              items: this.labelSelections(this.need(c, 'DropLabels'), 'DropLabels', 'DropLabel'),
            },
          ];
        case 'KeepLabelsExpr':
          return [
            {
              kind: 'keep',
              items: this.labelSelections(this.need(c, 'KeepLabels'), 'KeepLabels', 'KeepLabel'),
            },
          ];
        case 'DecolorizeExpr':
          return [{ kind: 'decolorize' }];
        default:
          this.fail(c, `unsupported pipeline stage ${JSON.stringify(this.text(c))}`);
      }
    }
    this.fail(n, 'empty pipeline stage');
  }

  private lineFilters(n: SyntaxNode): Stage[] {
    const out: Stage[] = [];
    for (const c of this.kids(n)) {
      if (c.name === 'LineFilters') out.push(...this.lineFilters(c));
      else if (c.name === 'LineFilter') out.push(this.lineFilter(c));
    }
    return out;
  }

  private lineFilter(n: SyntaxNode): Stage {
    const filter = this.need(n, 'Filter');
    const opNode = filter.firstChild;
    const op = opNode ? LINE_FILTER_NODES[opNode.name] : undefined;
    if (!op) this.fail(filter, `unknown line filter ${JSON.stringify(this.text(filter))}`);
    const terms: LineFilterTerm[] = [];
    const collect = (node: SyntaxNode): void => {
      let ip = false;
      for (const c of this.kids(node)) {
        if (c.name === 'FilterOp') ip = true;
        else if (c.name === 'String') {
          terms.push({ value: this.string(c), ip });
          ip = false;
        } else if (c.name === 'OrFilter') collect(c);
      }
    };
    collect(n);
    if (terms.length === 0) this.fail(n, 'line filter without a value');
    for (const t of terms) {
      if (t.ip) {
        if (op !== '|=' && op !== '!=') this.fail(n, `ip() can only be used with |= and !=, not ${op}`);
      } else if (op === '|~' || op === '!~') {
        try {
          goRegexToJs(t.value);
        } catch (err) {
          if (err instanceof RegexSyntaxError) this.fail(n, err.message);
          throw err;
        }
      }
    }
    return { kind: 'lineFilter', op, terms };
  }

  private labelParser(n: SyntaxNode): Stage {
    const kind = n.firstChild;
    switch (kind?.name) {
      case 'Json':
        return { kind: 'parser', parser: 'json' };
      case 'Logfmt':
        return { kind: 'parser', parser: 'logfmt' };
      case 'Unpack':
        return { kind: 'parser', parser: 'unpack' };
      case 'Regexp': {
        const param = this.string(this.need(n, 'String'));
        let re: RegExp;
        try {
          const js = goRegexToJs(param);
          re = new RegExp(js.source, js.flags);
        } catch (err) {
          if (err instanceof RegexSyntaxError) this.fail(n, err.message);
          throw err;
        }
        const names = Object.keys(new RegExp(`${re.source}|`, re.flags).exec('')?.groups ?? {});
        if (names.length === 0)
          this.fail(n, 'the regexp parser needs at least one named capture, e.g. (?P<name>\\w+)');
        for (const name of names)
          if (!isValidLabelName(name)) this.fail(n, `invalid extracted label name '${name}'`);
        return { kind: 'parser', parser: 'regexp', param };
      }
      case 'Pattern': {
        const param = this.string(this.need(n, 'String'));
        const problem = validatePattern(param);
        if (problem) this.fail(n, problem);
        return { kind: 'parser', parser: 'pattern', param };
      }
      default:
        this.fail(n, `unknown parser ${JSON.stringify(this.text(n))}`);
    }
  }

  private logfmtParser(n: SyntaxNode): Stage {
    let strict = false;
    let keepEmpty = false;
    const flags = n.getChild('LogfmtParserFlags');
    const walkFlags = (f: SyntaxNode): void => {
      for (const c of this.kids(f)) {
        if (c.name === 'LogfmtParserFlags') walkFlags(c);
        else if (c.name === 'ParserFlag') {
          const t = this.text(c);
          if (t === '--strict') strict = true;
          else if (t === '--keep-empty') keepEmpty = true;
          else this.fail(c, `unknown logfmt flag ${t}`);
        }
      }
    };
    if (flags) walkFlags(flags);
    const list = n.getChild('LabelExtractionExpressionList');
    return {
      kind: 'parser',
      parser: 'logfmt',
      strict,
      keepEmpty,
      ...(list ? { extractions: this.extractions(list, 'logfmt') } : {}),
    };
  }

  private extractions(n: SyntaxNode, parser: 'json' | 'logfmt'): LabelExtraction[] {
    const out: LabelExtraction[] = [];
    const walk = (l: SyntaxNode): void => {
      for (const c of this.kids(l)) {
        if (c.name === 'LabelExtractionExpressionList') walk(c);
        else if (c.name === 'LabelExtractionExpression') {
          const label = this.text(this.need(c, 'Identifier'));
          const str = c.getChild('String');
          const expr = str ? this.string(str) : label;
          if (parser === 'json' && parseJsonPath(expr) === undefined)
            this.fail(c, `cannot parse JSON path ${JSON.stringify(expr)}`);
          out.push({ label, expr });
        }
      }
    };
    walk(n);
    return out;
  }

  private labelFilter(n: SyntaxNode): LabelFilterExpr {
    const kids = this.kids(n);
    const subFilters = kids.filter((c) => c.name === 'LabelFilter');
    if (subFilters.length === 1 && kids.length === 1) return this.labelFilter(subFilters[0]!);
    if (subFilters.length === 1) return this.labelFilter(subFilters[0]!); // parenthesized
    if (subFilters.length === 2) {
      const isOr = kids.some((c) => c.name === 'Or');
      return {
        kind: isOr ? 'or' : 'and',
        left: this.labelFilter(subFilters[0]!),
        right: this.labelFilter(subFilters[1]!),
      };
    }
    const leaf = kids[0];
    if (!leaf) this.fail(n, 'empty label filter');
    switch (leaf.name) {
      case 'Matcher': {
        const m = this.matcher(leaf);
        return { kind: 'matcher', matcher: m };
      }
      case 'NumberFilter': {
        const name = this.text(this.need(leaf, 'Identifier'));
        const op = this.compareOp(leaf);
        const lit = this.need(leaf, 'LiteralExpr');
        return { kind: 'number', name, op, value: this.literal(lit) };
      }
      case 'UnitFilter': {
        const f = leaf.firstChild!;
        const name = this.text(this.need(f, 'Identifier'));
        const op = this.compareOp(f);
        if (f.name === 'DurationFilter') {
          const text = this.text(this.need(f, 'Duration'));
          const seconds = parseGoDuration(text, true);
          if (seconds === undefined) this.fail(f, `invalid duration ${text}`);
          return { kind: 'duration', name, op, seconds, text };
        }
        const text = this.text(this.need(f, 'Bytes'));
        const bytes = parseBytes(text);
        if (bytes === undefined) this.fail(f, `invalid byte size ${text}`);
        return { kind: 'bytes', name, op, bytes, text };
      }
      case 'IpLabelFilter': {
        const name = this.text(this.need(leaf, 'Identifier'));
        const negate = leaf.getChild('Neq') !== null;
        const pattern = this.string(this.need(leaf, 'String'));
        return { kind: 'ip', name, negate, pattern };
      }
      default:
        this.fail(leaf, `unsupported label filter ${JSON.stringify(this.text(n))}`);
    }
  }

  private compareOp(n: SyntaxNode): CompareOp {
    for (const c of this.kids(n)) if (COMPARE_NODES[c.name]) return COMPARE_NODES[c.name]!;
    this.fail(n, `missing comparison operator in ${JSON.stringify(this.text(n))}`);
  }

  private literal(n: SyntaxNode): number {
    const num = this.need(n, 'Number');
    const v = Number(this.text(num));
    if (Number.isNaN(v) && this.text(num).toLowerCase() !== 'nan')
      this.fail(num, `invalid number ${this.text(num)}`);
    return n.getChild('Sub') ? -v : v;
  }

  private labelFormat(n: SyntaxNode): Stage {
    const ops: LabelFormatOp[] = [];
    const seen = new Set<string>();
    const walk = (l: SyntaxNode): void => {
      for (const c of this.kids(l)) {
        if (c.name === 'LabelsFormat') walk(c);
        else if (c.name === 'LabelFormatMatcher') {
          const ids = c.getChildren('Identifier');
          const dst = this.text(ids[0]!);
          if (seen.has(dst)) this.fail(c, `label_format sets label "${dst}" more than once`);
          seen.add(dst);
          const str = c.getChild('String');
          if (str) {
            const template = this.string(str);
            this.checkTemplate(c, template);
            ops.push({ dst, template });
          } else if (ids[1]) ops.push({ dst, src: this.text(ids[1]) });
          else this.fail(c, `malformed label_format ${JSON.stringify(this.text(c))}`);
        }
      }
    };
    walk(this.need(n, 'LabelsFormat'));
    return { kind: 'labelFormat', ops };
  }

  private checkTemplate(n: SyntaxNode, template: string): void {
    try {
      compileTemplate(template);
    } catch (err) {
      this.fail(n, `invalid template ${JSON.stringify(template)}: ${(err as Error).message}`);
    }
  }

  private labelSelections(n: SyntaxNode, listName: string, itemName: string): LabelSelection[] {
    const out: LabelSelection[] = [];
    const walk = (l: SyntaxNode): void => {
      for (const c of this.kids(l)) {
        if (c.name === listName) walk(c);
        else if (c.name === itemName) {
          const m = c.getChild('Matcher');
          if (m) {
            const matcher = this.matcher(m);
            out.push({ name: matcher.name, matcher });
          } else out.push({ name: this.text(this.need(c, 'Identifier')) });
        }
      }
    };
    walk(n);
    return out;
  }

  // ------------------------------------------------------------ metric queries

  private metricExpr(n: SyntaxNode): MetricExpr {
    const inner = n.firstChild;
    if (!inner) this.fail(n, 'empty expression');
    switch (inner.name) {
      case 'MetricExpr':
        return this.metricExpr(inner); // parenthesized
      case 'RangeAggregationExpr':
        return this.rangeAgg(inner);
      case 'VectorAggregationExpr':
        return this.vectorAgg(inner);
      case 'BinOpExpr':
        return this.binary(inner);
      case 'LiteralExpr':
        return { kind: 'literal', value: this.literal(inner) };
      case 'VectorExpr':
        return { kind: 'vector', value: this.literal(inner) };
      case 'LabelReplaceExpr':
        return this.labelReplace(inner);
      default:
        this.fail(inner, `unsupported expression ${JSON.stringify(this.text(inner))}`);
    }
  }

  private rangeAgg(n: SyntaxNode): MetricExpr {
    const opNode = this.need(n, 'RangeOp');
    const op = this.text(opNode) as RangeOp;
    if (!RANGE_OPS.has(op)) this.fail(opNode, `unsupported range aggregation ${op}`);
    const num = n.getChild('Number');
    const range = this.logRange(this.need(n, 'LogRangeExpr'));
    const groupingNode = n.getChild('Grouping');
    if (op === 'quantile_over_time' && !num)
      this.fail(n, 'quantile_over_time needs a quantile parameter, e.g. quantile_over_time(0.99, …)');
    if (op !== 'quantile_over_time' && num) this.fail(num, `${op} does not take a parameter`);
    if (UNWRAP_REQUIRED.has(op) && !range.unwrap) this.fail(n, `invalid aggregation ${op} without unwrap`);
    if (UNWRAP_FORBIDDEN.has(op) && range.unwrap) this.fail(n, `invalid aggregation ${op} with unwrap`);
    if (groupingNode && !range.unwrap) this.fail(groupingNode, `grouping not allowed for ${op} aggregation`);
    return {
      kind: 'rangeAgg',
      op,
      ...(num ? { param: Number(this.text(num)) } : {}),
      range,
      ...(groupingNode ? { grouping: this.grouping(groupingNode) } : {}),
    };
  }

  private logRange(n: SyntaxNode): LogRange {
    const nestedLog = n.getChild('LogExpr');
    let selector: LogSelectorExpr;
    if (nestedLog) selector = this.logExpr(nestedLog);
    else {
      const pipeline = n.getChild('PipelineExpr');
      selector = {
        kind: 'logSelector',
        matchers: this.selector(this.need(n, 'Selector')),
        pipeline: pipeline ? this.pipeline(pipeline) : [],
      };
    }
    const rangeNode = this.need(n, 'Range');
    const rangeMs = this.durationMs(this.need(rangeNode, 'Duration'));
    if (rangeMs <= 0) this.fail(rangeNode, 'the range must be positive');
    const offsetNode = n.getChild('OffsetExpr');
    const offsetMs = offsetNode ? this.durationMs(this.need(offsetNode, 'Duration')) : 0;
    const unwrapNode = n.getChild('UnwrapExpr');
    return { selector, rangeMs, offsetMs, ...(unwrapNode ? { unwrap: this.unwrap(unwrapNode) } : {}) };
  }

  private unwrap(n: SyntaxNode): Unwrap {
    const inner = n.getChild('UnwrapExpr');
    if (inner) {
      const base = this.unwrap(inner);
      const filter = n.getChild('LabelFilter');
      return filter ? { ...base, postFilters: [...base.postFilters, this.labelFilter(filter)] } : base;
    }
    const label = this.text(this.need(n, 'Identifier'));
    const conv = n.getChild('ConvOp');
    return { label, ...(conv ? { conversion: this.text(conv) as UnwrapConversion } : {}), postFilters: [] };
  }

  private durationMs(n: SyntaxNode): number {
    const seconds = parseGoDuration(this.text(n), true);
    if (seconds === undefined) this.fail(n, `invalid duration ${this.text(n)}`);
    return Math.round(seconds * 1000);
  }

  private grouping(n: SyntaxNode): Grouping {
    const without = n.getChild('Without') !== null;
    const labels: string[] = [];
    const list = n.getChild('Labels');
    const walk = (l: SyntaxNode): void => {
      for (const c of this.kids(l)) {
        if (c.name === 'Labels') walk(c);
        else if (c.name === 'Identifier') labels.push(this.text(c));
      }
    };
    if (list) walk(list);
    return { without, labels };
  }

  private vectorAgg(n: SyntaxNode): MetricExpr {
    const op = this.text(this.need(n, 'VectorOp')) as VectorOp;
    const groupings = n.getChildren('Grouping');
    const num = n.getChild('Number');
    const inner = this.metricExpr(this.need(n, 'MetricExpr'));
    if ((op === 'topk' || op === 'bottomk') && !num)
      this.fail(n, `${op} needs a parameter, e.g. ${op}(5, …)`);
    if (op !== 'topk' && op !== 'bottomk' && num) this.fail(num, `${op} does not take a parameter`);
    if (num) {
      const k = Number(this.text(num));
      if (!Number.isInteger(k) || k <= 0)
        this.fail(num, `${op} needs a positive integer parameter, got ${this.text(num)}`);
    }
    if ((op === 'sort' || op === 'sort_desc') && groupings.length > 0)
      this.fail(groupings[0]!, `${op} does not take a grouping`);
    return {
      kind: 'vectorAgg',
      op,
      ...(num ? { param: Number(this.text(num)) } : {}),
      ...(groupings[0] ? { grouping: this.grouping(groupings[0]) } : {}),
      expr: inner,
    };
  }

  private labelReplace(n: SyntaxNode): MetricExpr {
    const strings = n.getChildren('String').map((s) => this.string(s));
    if (strings.length !== 4)
      this.fail(n, 'label_replace takes an expression and four strings: dst, replacement, src, regex');
    const [dst, replacement, src, regex] = strings as [string, string, string, string];
    if (!isValidLabelName(dst)) this.fail(n, `invalid destination label name ${JSON.stringify(dst)}`);
    try {
      goRegexToJs(regex);
    } catch (err) {
      if (err instanceof RegexSyntaxError) this.fail(n, err.message);
      throw err;
    }
    return {
      kind: 'labelReplace',
      expr: this.metricExpr(this.need(n, 'MetricExpr')),
      dst,
      replacement,
      src,
      regex,
    };
  }

  /**
   * The grammar nests binary operators without precedence and hides parentheses, so chains are
   * flattened (stopping at parenthesized operands, which appear as a MetricExpr wrapping a
   * MetricExpr) and rebuilt by precedence climbing: `^` right-associative, all else left.
   */
  private binary(n: SyntaxNode): MetricExpr {
    const operands: Operand[] = [];
    const ops: { op: BinaryOp; node: SyntaxNode; modifier: SyntaxNode | null }[] = [];
    const flatten = (b: SyntaxNode): void => {
      const kids = this.kids(b);
      const exprs = kids.filter((k) => k.name === 'Expr');
      const opNode = kids.find((k) => BIN_OP_NODES[k.name] !== undefined);
      if (exprs.length !== 2 || !opNode)
        this.fail(b, `malformed binary expression ${JSON.stringify(this.text(b))}`);
      for (const [i, e] of exprs.entries()) {
        const m = e.firstChild;
        const bin = m?.name === 'MetricExpr' ? m.firstChild : null;
        if (bin && bin.name === 'BinOpExpr') flatten(bin);
        else {
          const ex = this.expr(e);
          if (ex.kind === 'logSelector')
            this.fail(e, 'binary operators take metric queries, not log queries');
          operands.push({ expr: ex });
        }
        if (i === 0)
          ops.push({ op: BIN_OP_NODES[opNode.name]!, node: opNode, modifier: b.getChild('BinOpModifier') });
      }
    };
    flatten(n);
    let pos = 0;
    let opPos = 0;
    const parseOperand = (): MetricExpr => operands[pos++]!.expr;
    const climb = (minPrec: number): MetricExpr => {
      let left = parseOperand();
      while (opPos < ops.length) {
        const { op, node, modifier } = ops[opPos]!;
        const prec = BIN_PRECEDENCE[op];
        if (prec < minPrec) break;
        opPos++;
        const right = climb(op === '^' ? prec : prec + 1);
        left = this.makeBinary(node, op, modifier, left, right);
      }
      return left;
    };
    return climb(0);
  }

  private makeBinary(
    node: SyntaxNode,
    op: BinaryOp,
    modifier: SyntaxNode | null,
    left: MetricExpr,
    right: MetricExpr,
  ): BinaryExpr {
    let returnBool = false;
    let matching: VectorMatching | undefined;
    if (modifier) {
      returnBool = modifier.getChild('Bool') !== null;
      const onIgn = modifier.getChild('OnOrIgnoringModifier');
      const groupSide = modifier.getChild('GroupLeft')
        ? 'left'
        : modifier.getChild('GroupRight')
          ? 'right'
          : undefined;
      const labelsOf = (g: SyntaxNode | null): string[] => {
        const out: string[] = [];
        if (!g) return out;
        g.cursor().iterate((c) => {
          if (c.name === 'LabelName') out.push(this.src.slice(c.from, c.to));
        });
        return out;
      };
      if (onIgn || groupSide) {
        const groupingLabels = modifier.getChildren('GroupingLabels');
        const onLabels = onIgn ? labelsOf(onIgn.getChild('GroupingLabels')) : [];
        const include = groupSide ? labelsOf(groupingLabels.at(-1) ?? null) : [];
        matching = {
          on: onIgn !== null && onIgn.getChild('On') !== null,
          labels: onLabels,
          ...(groupSide ? { group: groupSide as 'left' | 'right' } : {}),
          include,
        };
      }
    }
    const comparison = op === '==' || op === '!=' || op === '>' || op === '>=' || op === '<' || op === '<=';
    if (returnBool && !comparison) this.fail(node, 'bool modifier can only be used on comparison operators');
    const isScalar = (e: MetricExpr): boolean => e.kind === 'literal';
    if ((op === 'and' || op === 'or' || op === 'unless') && (isScalar(left) || isScalar(right))) {
      this.fail(node, `set operator "${op}" not allowed in binary scalar expression`);
    }
    if (comparison && isScalar(left) && isScalar(right) && !returnBool) {
      this.fail(node, 'comparisons between scalars must use BOOL modifier');
    }
    return { kind: 'binary', op, left, right, returnBool, ...(matching ? { matching } : {}) };
  }
}

function matchesEmptyString(m: Matcher): boolean {
  switch (m.type) {
    case '=':
      return m.value === '';
    case '!=':
      return m.value !== '';
    case '=~':
      return new RegExp(`^(?:${m.value})$`, 's').test('');
    case '!~':
      return !new RegExp(`^(?:${m.value})$`, 's').test('');
  }
}

/** Loki's pattern syntax: literals and `<name>` / `<_>` captures, never two captures in a row. */
export function validatePattern(pattern: string): string | undefined {
  const parts = splitPattern(pattern);
  let named = 0;
  const seen = new Set<string>();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.kind === 'capture') {
      if (i > 0 && parts[i - 1]!.kind === 'capture')
        return `invalid pattern ${JSON.stringify(pattern)}: two captures cannot be next to each other`;
      if (p.name !== '_') {
        if (!isValidLabelName(p.name)) return `invalid capture label name '${p.name}'`;
        if (seen.has(p.name)) return `duplicate capture name '${p.name}' in pattern`;
        seen.add(p.name);
        named++;
      }
    }
  }
  if (named === 0)
    return `invalid pattern ${JSON.stringify(pattern)}: at least one named capture such as <name> is required`;
  return undefined;
}

export type PatternPart = { kind: 'literal'; text: string } | { kind: 'capture'; name: string };

/** Splits a pattern into literals and captures; `<…>` is a capture only if it holds a name or `_`. */
export function splitPattern(pattern: string): PatternPart[] {
  const parts: PatternPart[] = [];
  let lit = '';
  const re = /<([a-zA-Z_][a-zA-Z0-9_]*)>/g;
  let last = 0;
  for (let m = re.exec(pattern); m; m = re.exec(pattern)) {
    lit += pattern.slice(last, m.index);
    if (lit !== '') parts.push({ kind: 'literal', text: lit });
    lit = '';
    parts.push({ kind: 'capture', name: m[1]! });
    last = m.index + m[0].length;
  }
  lit += pattern.slice(last);
  if (lit !== '') parts.push({ kind: 'literal', text: lit });
  return parts;
}

/** JSON paths of `json label="a.b[0].c"` / `a["b"]`: a list of keys and indices. */
export function parseJsonPath(path: string): (string | number)[] | undefined {
  const out: (string | number)[] = [];
  let i = 0;
  const ident = /^[a-zA-Z0-9_@$-]+/;
  const first = ident.exec(path);
  if (first) {
    out.push(first[0]);
    i = first[0].length;
  }
  while (i < path.length) {
    if (path[i] === '.') {
      const m = ident.exec(path.slice(i + 1));
      if (!m) return undefined;
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (path[i] === '[') {
      const close = path.indexOf(']', i);
      if (close < 0) return undefined;
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else if (/^"(.*)"$/.test(inner) || /^'(.*)'$/.test(inner)) out.push(inner.slice(1, -1));
      else return undefined;
      i = close + 1;
    } else return undefined;
  }
  return out.length > 0 ? out : undefined;
}
