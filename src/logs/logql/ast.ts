import type { Matcher } from '../../model/matchers.ts';

/** Irin's own LogQL syntax tree, built from the @grafana/lezer-logql parse tree (see parser.ts). */

export type LineFilterOp = '|=' | '!=' | '|~' | '!~' | '|>' | '!>';

/** One alternative of a line filter: a literal / regex / pattern, or `ip("…")`. */
export interface LineFilterTerm {
  readonly value: string;
  readonly ip: boolean;
}

/** `|= "a" or "b"`: the line must contain one of the terms (`!= "a" or "b"`: none of them). */
export interface LineFilterStage {
  readonly kind: 'lineFilter';
  readonly op: LineFilterOp;
  readonly terms: readonly LineFilterTerm[];
}

export interface LabelExtraction {
  readonly label: string;
  /** JSON path or logfmt key; defaults to the label name. */
  readonly expr: string;
}

export interface ParserStage {
  readonly kind: 'parser';
  readonly parser: 'json' | 'logfmt' | 'regexp' | 'pattern' | 'unpack';
  /** The regexp or pattern. */
  readonly param?: string;
  /** `json a="x.y", b` / `logfmt a="k"`: extract only these. */
  readonly extractions?: readonly LabelExtraction[];
  readonly strict?: boolean;
  readonly keepEmpty?: boolean;
}

export type CompareOp = '==' | '!=' | '>' | '>=' | '<' | '<=';

export type LabelFilterExpr =
  | { readonly kind: 'and' | 'or'; readonly left: LabelFilterExpr; readonly right: LabelFilterExpr }
  | { readonly kind: 'matcher'; readonly matcher: Matcher }
  | { readonly kind: 'number'; readonly name: string; readonly op: CompareOp; readonly value: number }
  | {
      readonly kind: 'duration';
      readonly name: string;
      readonly op: CompareOp;
      readonly seconds: number;
      readonly text: string;
    }
  | {
      readonly kind: 'bytes';
      readonly name: string;
      readonly op: CompareOp;
      readonly bytes: number;
      readonly text: string;
    }
  | { readonly kind: 'ip'; readonly name: string; readonly negate: boolean; readonly pattern: string };

export interface LabelFilterStage {
  readonly kind: 'labelFilter';
  readonly filter: LabelFilterExpr;
}

export interface LineFormatStage {
  readonly kind: 'lineFormat';
  readonly template: string;
}

/** `dst=src` renames; `dst="{{…}}"` sets from a template. */
export interface LabelFormatOp {
  readonly dst: string;
  readonly src?: string;
  readonly template?: string;
}

export interface LabelFormatStage {
  readonly kind: 'labelFormat';
  readonly ops: readonly LabelFormatOp[];
}

/** `drop a, b="c"` / `keep a, b="c"`: a bare name, or a matcher on that label. */
export interface LabelSelection {
  readonly name: string;
  readonly matcher?: Matcher;
}

export interface DropStage {
  readonly kind: 'drop';
  readonly items: readonly LabelSelection[];
}

export interface KeepStage {
  readonly kind: 'keep';
  readonly items: readonly LabelSelection[];
}

export interface DecolorizeStage {
  readonly kind: 'decolorize';
}

export type Stage =
  | LineFilterStage
  | ParserStage
  | LabelFilterStage
  | LineFormatStage
  | LabelFormatStage
  | DropStage
  | KeepStage
  | DecolorizeStage;

export interface LogSelectorExpr {
  readonly kind: 'logSelector';
  readonly matchers: readonly Matcher[];
  readonly pipeline: readonly Stage[];
}

export type UnwrapConversion = 'bytes' | 'duration' | 'duration_seconds';

export interface Unwrap {
  readonly label: string;
  readonly conversion?: UnwrapConversion;
  /** Label filters after the unwrap (typically `| __error__=""`). */
  readonly postFilters: readonly LabelFilterExpr[];
}

export interface LogRange {
  readonly selector: LogSelectorExpr;
  readonly rangeMs: number;
  readonly offsetMs: number;
  readonly unwrap?: Unwrap;
}

export type RangeOp =
  | 'count_over_time'
  | 'rate'
  | 'rate_counter'
  | 'bytes_over_time'
  | 'bytes_rate'
  | 'avg_over_time'
  | 'sum_over_time'
  | 'min_over_time'
  | 'max_over_time'
  | 'stddev_over_time'
  | 'stdvar_over_time'
  | 'quantile_over_time'
  | 'first_over_time'
  | 'last_over_time'
  | 'absent_over_time';

export interface Grouping {
  readonly without: boolean;
  readonly labels: readonly string[];
}

export interface RangeAggregationExpr {
  readonly kind: 'rangeAgg';
  readonly op: RangeOp;
  readonly param?: number;
  readonly range: LogRange;
  readonly grouping?: Grouping;
}

export type VectorOp =
  'sum' | 'avg' | 'min' | 'max' | 'count' | 'stddev' | 'stdvar' | 'topk' | 'bottomk' | 'sort' | 'sort_desc';

export interface VectorAggregationExpr {
  readonly kind: 'vectorAgg';
  readonly op: VectorOp;
  readonly param?: number;
  readonly grouping?: Grouping;
  readonly expr: MetricExpr;
}

export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '>' | '>=' | '<' | '<=' | 'and' | 'or' | 'unless';

export interface VectorMatching {
  readonly on: boolean;
  readonly labels: readonly string[];
  readonly group?: 'left' | 'right';
  readonly include: readonly string[];
}

export interface BinaryExpr {
  readonly kind: 'binary';
  readonly op: BinaryOp;
  readonly left: MetricExpr;
  readonly right: MetricExpr;
  readonly returnBool: boolean;
  readonly matching?: VectorMatching;
}

export interface LiteralExpr {
  readonly kind: 'literal';
  readonly value: number;
}

export interface VectorExpr {
  readonly kind: 'vector';
  readonly value: number;
}

export interface LabelReplaceExpr {
  readonly kind: 'labelReplace';
  readonly expr: MetricExpr;
  readonly dst: string;
  readonly replacement: string;
  readonly src: string;
  readonly regex: string;
}

export type MetricExpr =
  RangeAggregationExpr | VectorAggregationExpr | BinaryExpr | LiteralExpr | VectorExpr | LabelReplaceExpr;

export type Expr = LogSelectorExpr | MetricExpr;

export function isLogSelector(e: Expr): e is LogSelectorExpr {
  return e.kind === 'logSelector';
}

/** The longest `[range]` plus `offset` any range aggregation of the query reaches back. */
export function longestRangeMs(e: Expr): number {
  switch (e.kind) {
    case 'logSelector':
    case 'literal':
    case 'vector':
      return 0;
    case 'rangeAgg':
      return e.range.rangeMs + e.range.offsetMs;
    case 'vectorAgg':
    case 'labelReplace':
      return longestRangeMs(e.expr);
    case 'binary':
      return Math.max(longestRangeMs(e.left), longestRangeMs(e.right));
  }
}
