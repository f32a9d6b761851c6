import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ParseError, parseExpr, parseSeriesSelector } from '../../../src/promql/parser.ts';
import { formatExpr, prettyExpr } from '../../../src/promql/format.ts';
import type { BinaryExpr, Expr } from '../../../src/promql/ast.ts';

function parseError(query: string): string {
  try {
    parseExpr(query);
  } catch (err) {
    assert.ok(err instanceof ParseError, `expected a ParseError for ${query}, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`expected ${JSON.stringify(query)} not to parse`);
}

describe('parser: AST shapes', () => {
  it('builds a vector selector with the name matcher last and all modifiers', () => {
    const e = parseExpr('foo{a="b", c=~"x.*", d!="", e!~"y"} offset 5m @ 1700000000.5');
    assert.equal(e.type, 'VectorSelector');
    if (e.type !== 'VectorSelector') return;
    assert.equal(e.name, 'foo');
    assert.deepEqual(
      e.matchers.map((m) => `${m.name}${m.type}${m.value}`),
      ['a=b', 'c=~x.*', 'd!=', 'e!~y', '__name__=foo'],
    );
    assert.equal(e.offsetMs, 300_000);
    assert.deepEqual(e.at, { kind: 'time', ms: 1_700_000_000_500 });
  });

  it('builds matrix selectors and subqueries with range, step, offset and @ start()/end()', () => {
    const m = parseExpr('rate(x[1h30m] offset -2m)');
    assert.equal(m.type, 'Call');
    if (m.type !== 'Call') return;
    const arg = m.args[0]!;
    assert.equal(arg.type, 'MatrixSelector');
    if (arg.type === 'MatrixSelector') {
      assert.equal(arg.rangeMs, 5_400_000);
      assert.equal(arg.selector.offsetMs, -120_000);
    }
    const s = parseExpr('max_over_time(x[10m:1m] @ end())');
    if (s.type !== 'Call') assert.fail('expected a call');
    const sub = s.args[0]!;
    assert.equal(sub.type, 'SubqueryExpr');
    if (sub.type === 'SubqueryExpr') {
      assert.equal(sub.rangeMs, 600_000);
      assert.equal(sub.stepMs, 60_000);
      assert.deepEqual(sub.at, { kind: 'end' });
    }
    const noStep = parseExpr('x[5m:]');
    assert.equal(noStep.type === 'SubqueryExpr' && noStep.stepMs, 0);
  });

  it('parses aggregations with the modifier before or after, and parameters', () => {
    for (const q of ['topk by (job) (3, x)', 'topk(3, x) by (job)']) {
      const e = parseExpr(q);
      assert.equal(e.type, 'AggregateExpr');
      if (e.type !== 'AggregateExpr') continue;
      assert.equal(e.op, 'topk');
      assert.deepEqual(e.grouping, ['job']);
      assert.equal(e.without, false);
      assert.equal(e.param?.type, 'NumberLiteral');
    }
    const w = parseExpr('SUM without (a, b) (x)');
    assert.equal(w.type === 'AggregateExpr' && w.op, 'sum');
    assert.equal(w.type === 'AggregateExpr' && w.without, true);
  });

  it('applies precedence and associativity as PromQL does', () => {
    const top = (q: string): string => {
      const e = parseExpr(q);
      return e.type === 'BinaryExpr' ? e.op : e.type;
    };
    assert.equal(top('a + b * c'), '+');
    assert.equal(top('a * b + c'), '+');
    assert.equal(top('a or b and c'), 'or');
    assert.equal(top('a and b unless c'), 'unless');
    assert.equal(top('a > b + c'), '>');
    // ^ is right-associative: 2 ^ 3 ^ 2 = 2 ^ (3 ^ 2)
    const pow = parseExpr('2 ^ 3 ^ 2') as BinaryExpr;
    assert.equal(pow.rhs.type, 'BinaryExpr');
    // Unary minus binds weaker than ^: -2 ^ 2 is -(2 ^ 2).
    const neg = parseExpr('-2 ^ 2');
    assert.equal(neg.type, 'UnaryExpr');
    // A signed number on its own is a literal.
    const lit = parseExpr('-1.5');
    assert.equal(lit.type === 'NumberLiteral' && lit.value, -1.5);
  });

  it('binds range, offset and @ to the nearest operand', () => {
    const e = parseExpr('a + b offset 5m') as BinaryExpr;
    assert.equal(e.lhs.type === 'VectorSelector' && e.lhs.offsetMs, 0);
    assert.equal(e.rhs.type === 'VectorSelector' && e.rhs.offsetMs, 300_000);
    const u = parseExpr('-x offset 1m');
    assert.equal(u.type, 'UnaryExpr');
    // The subquery applies to b alone, which makes the product invalid (as in Prometheus).
    assert.throws(
      () => parseExpr('a * b[5m:]'),
      /binary expression must contain only scalar and instant vector types/,
    );
    const sub = parseExpr('a * max_over_time(b[5m:])') as BinaryExpr;
    assert.equal(sub.op, '*');
  });

  it('records vector matching, bool and group modifiers', () => {
    const e = parseExpr('a > bool on(x, y) group_left(z) b') as BinaryExpr;
    assert.equal(e.returnBool, true);
    assert.deepEqual(e.matching, { card: 'many-to-one', on: true, labels: ['x', 'y'], include: ['z'] });
    const r = parseExpr('a / ignoring(x) group_right b') as BinaryExpr;
    assert.deepEqual(r.matching, { card: 'one-to-many', on: false, labels: ['x'], include: [] });
    const set = parseExpr('a and b') as BinaryExpr;
    assert.equal(set.matching?.card, 'many-to-many');
    const scalarSide = parseExpr('a + 1') as BinaryExpr;
    assert.equal(scalarSide.matching, undefined);
  });

  it('reads number and string literal syntax', () => {
    const num = (q: string): number => {
      const e = parseExpr(q);
      assert.equal(e.type, 'NumberLiteral');
      return e.type === 'NumberLiteral' ? e.value : NaN;
    };
    assert.equal(num('0x1F'), 31);
    assert.equal(num('1e3'), 1000);
    assert.equal(num('.5'), 0.5);
    assert.equal(num('Inf'), Infinity);
    assert.equal(num('-inf'), -Infinity);
    assert.ok(Number.isNaN(num('NaN')));
    const str = (q: string): string => {
      const e = parseExpr(q);
      return e.type === 'StringLiteral' ? e.value : '';
    };
    assert.equal(str('"a\\n\\"b\\u00e9"'), 'a\n"bé');
    assert.equal(str("'single \\x41'"), 'single A');
    assert.equal(str('`raw \\n`'), 'raw \\n');
  });

  it('accepts the Prometheus 2.x name holt_winters', () => {
    const e = parseExpr('holt_winters(x[5m], 0.5, 0.5)');
    assert.equal(e.type === 'Call' && e.func, 'holt_winters');
  });

  it('parses match[] selectors and refuses anything else there', () => {
    assert.equal(parseSeriesSelector('up{job="x"}').name, 'up');
    assert.throws(() => parseSeriesSelector('rate(up[5m])'), ParseError);
    assert.throws(() => parseSeriesSelector('up offset 5m'), ParseError);
  });
});

describe('parser: errors', () => {
  const cases: [string, RegExp][] = [
    ['', /^1:1: parse error: no expression found in input$/],
    ['foo(', /unknown function with name "foo"/],
    ['bar(x)', /unknown function with name "bar"/],
    [
      'rate(x)',
      /1:6: parse error: expected type range vector in call to function "rate", got instant vector/,
    ],
    ['sum(x[5m])', /expected type instant vector in aggregation expression, got range vector/],
    ['1 > 2', /comparisons between scalars must use BOOL modifier/],
    ['a + b[5m]', /binary expression must contain only scalar and instant vector types/],
    ['x offset 5m [5m]', /no offset modifiers allowed before range/],
    ['sum(x) offset 5m', /offset modifier must be preceded by an instant vector selector/],
    ['x @ 1 @ 2', /@ <timestamp> may not be set multiple times/],
    ['x[5]', /missing unit character in duration/],
    ['x[0s]', /duration must be greater than 0/],
    ['{a=""}', /vector selector must contain at least one non-empty matcher/],
    ['foo{__name__="bar"}', /metric name must not be set twice: "foo" or "bar"/],
    ['a and on(x) group_left b', /no grouping allowed for "and" operation/],
    ['a + bool b', /bool modifier can only be used on comparison operators/],
    ['label_join(x, "a")', /expected at least 3 argument\(s\) in call to "label_join", got 2/],
    ['round(x, 1, 2)', /expected at most 2 argument\(s\) in call to "round", got 3/],
    ['topk(x)', /wrong number of arguments for aggregate expression provided, expected 2, got 1/],
    ['x{a="b', /parse error/],
    ['x{a=~"("}', /error parsing regexp/],
    ['1 and 2', /set operator "and" not allowed in binary scalar expression/],
    ['a + on(x) group_left(x) b', /label "x" must not occur in ON and GROUP clause at once/],
    ['-"a"', /unary expression only allowed on expressions of type scalar or instant vector/],
    ['limitk(1, x)', /parse error/],
    ['x[5m:1m:1m]', /parse error/],
  ];
  for (const [query, pattern] of cases) {
    it(`refuses ${JSON.stringify(query)}`, () => assert.match(parseError(query), pattern));
  }

  it('reports line and column of multi-line queries', () => {
    assert.match(parseError('sum(\n  rate(x)\n)'), /^2:8: parse error/);
  });
});

describe('formatter', () => {
  const roundTrips: [string, string][] = [
    ['sum by(job)(rate(x{b="2",a="1"}[5m]))', 'sum by (job) (rate(x{a="1",b="2"}[5m]))'],
    ['topk(3, x) by (a)', 'topk by (a) (3, x)'],
    ['a>bool on(x)group_left(y)b', 'a > bool on (x) group_left (y) b'],
    ['x offset 90m @ 100', 'x @ 100.000 offset 1h30m'],
    ['x[1d:5m] offset -1w', 'x[1d:5m] offset -1w'],
    ['1000000 + 0.00001 + 123456', '1e+06 + 1e-05 + 123456'],
    ['{__name__="x"}', '{__name__="x"}'],
    ['{__name__=~"x|y", job="a"}', '{__name__=~"x|y",job="a"}'],
    ['-(a + b)', '-(a + b)'],
    ['label_replace(x, "a", "$1", "b", "(.*)\\n")', 'label_replace(x, "a", "$1", "b", "(.*)\\n")'],
    ['Inf + -Inf + NaN', '+Inf + -Inf + NaN'],
  ];
  for (const [input, expected] of roundTrips) {
    it(`prints ${input}`, () => {
      assert.equal(formatExpr(parseExpr(input)), expected);
      // The printed form parses back to the same printed form.
      assert.equal(formatExpr(parseExpr(expected)), expected);
    });
  }

  it('splits long expressions over lines like Prometheus prettifier', () => {
    const long =
      'sum by (instance) (rate(node_cpu_seconds_total{mode="idle",instance="server-with-a-much-much-longer-name-here"}[5m])) / count by (instance) (node_cpu_seconds_total{mode="idle"})';
    const pretty = prettyExpr(parseExpr(long));
    assert.equal(
      pretty,
      [
        '  sum by (instance) (',
        '    rate(node_cpu_seconds_total{instance="server-with-a-much-much-longer-name-here",mode="idle"}[5m])',
        '  )',
        '/',
        '  count by (instance) (node_cpu_seconds_total{mode="idle"})',
      ].join('\n'),
    );
    const reparsed: Expr = parseExpr(pretty);
    assert.equal(formatExpr(reparsed), formatExpr(parseExpr(long)));
  });
});
