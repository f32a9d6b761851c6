import type { ValueType } from './ast.ts';

/**
 * The functions of PromQL as in Prometheus 2.42 (float samples), with their argument types.
 * `variadic`: 0 = exactly `args`; n > 0 = the last n arguments are optional; -1 = the last argument
 * type may repeat any number of times (and may be absent).
 */
export interface FunctionSignature {
  readonly args: readonly ValueType[];
  readonly variadic: number;
  readonly returns: ValueType;
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const sig = (args: ValueType[], returns: ValueType, variadic = 0): FunctionSignature => ({
  args,
  returns,
  variadic,
});

const vectorToVector = [
  'abs',
  'ceil',
  'floor',
  'exp',
  'sqrt',
  'ln',
  'log2',
  'log10',
  'sgn',
  'deg',
  'rad',
  'acos',
  'acosh',
  'asin',
  'asinh',
  'atan',
  'atanh',
  'cos',
  'cosh',
  'sin',
  'sinh',
  'tan',
  'tanh',
  'absent',
  'sort',
  'sort_desc',
  'timestamp',
  'histogram_count',
  'histogram_sum',
];

const rangeToVector = [
  'rate',
  'irate',
  'increase',
  'delta',
  'idelta',
  'deriv',
  'resets',
  'changes',
  'absent_over_time',
  'avg_over_time',
  'min_over_time',
  'max_over_time',
  'sum_over_time',
  'count_over_time',
  'stddev_over_time',
  'stdvar_over_time',
  'last_over_time',
  'present_over_time',
];

const dateFunctions = [
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'days_in_month',
  'hour',
  'minute',
  'month',
  'year',
];

export const FUNCTIONS: ReadonlyMap<string, FunctionSignature> = new Map<string, FunctionSignature>([
  ...vectorToVector.map((n): [string, FunctionSignature] => [n, sig([V], V)]),
  ...rangeToVector.map((n): [string, FunctionSignature] => [n, sig([M], V)]),
  ...dateFunctions.map((n): [string, FunctionSignature] => [n, sig([V], V, 1)]),
  ['clamp', sig([V, S, S], V)],
  ['clamp_max', sig([V, S], V)],
  ['clamp_min', sig([V, S], V)],
  ['round', sig([V, S], V, 1)],
  ['scalar', sig([V], S)],
  ['vector', sig([S], V)],
  ['time', sig([], S)],
  ['pi', sig([], S)],
  ['quantile_over_time', sig([S, M], V)],
  ['predict_linear', sig([M, S], V)],
  ['holt_winters', sig([M, S, S], V)],
  ['histogram_quantile', sig([S, V], V)],
  ['histogram_fraction', sig([S, S, V], V)],
  ['label_replace', sig([V, STR, STR, STR, STR], V)],
  ['label_join', sig([V, STR, STR, STR], V, -1)],
]);

/** Functions whose result depends on the evaluation time even when their input does not. */
export const AT_MODIFIER_UNSAFE = new Set([...dateFunctions, 'predict_linear', 'time', 'timestamp']);

export function functionReturnType(name: string): ValueType {
  const f = FUNCTIONS.get(name);
  if (!f) throw new Error(`unknown function ${name}`);
  return f.returns;
}
