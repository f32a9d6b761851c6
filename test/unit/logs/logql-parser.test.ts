import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatExpr } from '../../../src/logs/logql/format.ts';
import { LogQLParseError, parseLogQL, parseStreamSelector } from '../../../src/logs/logql/parser.ts';
import { goRegexToJs, inlineFlags } from '../../../src/logs/logql/regex.ts';
import { injectTenantMatcher, selectorsOf } from '../../../src/logs/logql/scope.ts';
import { compileTemplate } from '../../../src/logs/logql/template.ts';
import { parseBytes, parseGoDuration } from '../../../src/logs/logql/units.ts';

const roundTrip = (q: string): string => formatExpr(parseLogQL(q));

describe('LogQL parser', () => {
  it('builds the AST for every pipeline stage', () => {
    const e = parseLogQL(
      '{job="a", x!~"b.*"} |= "foo" or "bar" != "baz" |~ `x` | json | status >= 400 and dur > 1s or size < 1KB | line_format "{{.a}}" | label_format x=y, z="{{.q}}" | drop a, b="c" | keep d | decolorize',
    );
    assert.equal(e.kind, 'logSelector');
    if (e.kind !== 'logSelector') return;
    assert.deepEqual(e.matchers, [
      { name: 'job', type: '=', value: 'a' },
      { name: 'x', type: '!~', value: 'b.*' },
    ]);
    assert.deepEqual(
      e.pipeline.map((s) => s.kind),
      [
        'lineFilter',
        'lineFilter',
        'lineFilter',
        'parser',
        'labelFilter',
        'lineFormat',
        'labelFormat',
        'drop',
        'keep',
        'decolorize',
      ],
    );
    assert.deepEqual(e.pipeline[0], {
      kind: 'lineFilter',
      op: '|=',
      terms: [
        { value: 'foo', ip: false },
        { value: 'bar', ip: false },
      ],
    });
    const lf = e.pipeline[4];
    assert.ok(lf?.kind === 'labelFilter' && lf.filter.kind === 'or');
    if (lf?.kind === 'labelFilter' && lf.filter.kind === 'or') {
      assert.equal(lf.filter.left.kind, 'and', 'and binds tighter than or');
      assert.deepEqual(lf.filter.right, { kind: 'bytes', name: 'size', op: '<', bytes: 1000, text: '1KB' });
    }
    assert.deepEqual(e.pipeline[6], {
      kind: 'labelFormat',
      ops: [
        { dst: 'x', src: 'y' },
        { dst: 'z', template: '{{.q}}' },
      ],
    });
  });

  it('parses parsers with parameters, flags and extraction lists', () => {
    const e = parseLogQL(
      '{a="b"} | json foo="bar.baz", q | logfmt --strict --keep-empty a, b="c" | regexp "(?P<x>\\\\w+)" | pattern "<ip> <_>" | unpack',
    );
    assert.ok(e.kind === 'logSelector');
    if (e.kind !== 'logSelector') return;
    assert.deepEqual(e.pipeline, [
      {
        kind: 'parser',
        parser: 'json',
        extractions: [
          { label: 'foo', expr: 'bar.baz' },
          { label: 'q', expr: 'q' },
        ],
      },
      {
        kind: 'parser',
        parser: 'logfmt',
        strict: true,
        keepEmpty: true,
        extractions: [
          { label: 'a', expr: 'a' },
          { label: 'b', expr: 'c' },
        ],
      },
      { kind: 'parser', parser: 'regexp', param: '(?P<x>\\w+)' },
      { kind: 'parser', parser: 'pattern', param: '<ip> <_>' },
      { kind: 'parser', parser: 'unpack' },
    ]);
  });

  it('parses metric queries: range ops, unwrap with conversion and post filters, offset, grouping', () => {
    assert.equal(
      roundTrip(
        'quantile_over_time(0.99, {a="b"} | logfmt | unwrap duration(latency) | __error__="" [5m]) by (x)',
      ),
      'quantile_over_time(0.99, {a="b"} | logfmt | unwrap duration(latency) | __error__="" [5m]) by (x)',
    );
    assert.equal(
      roundTrip('count_over_time({a="b"} |= "x" [5m] offset 1h)'),
      'count_over_time({a="b"} |= "x" [5m] offset 1h)',
    );
    assert.equal(
      roundTrip('topk(3, sum without (a) (count_over_time({a="b"}[1m])))'),
      'topk(3, sum without (a)(count_over_time({a="b"} [1m])))',
    );
    assert.equal(roundTrip('sum(rate({a="b"}[1m])) by (x)'), 'sum by (x)(rate({a="b"} [1m]))');
    assert.equal(roundTrip('bytes_rate({a="b"}[90s])'), 'bytes_rate({a="b"} [1m30s])');
    assert.equal(roundTrip('rate({a="b"}[1.5m])'), 'rate({a="b"} [1m30s])');
  });

  it('applies operator precedence the grammar does not encode', () => {
    assert.equal(roundTrip('1 + 2 * 3'), '(1 + (2 * 3))');
    assert.equal(roundTrip('1 * 2 + 3'), '((1 * 2) + 3)');
    assert.equal(roundTrip('(1 + 2) * 3'), '((1 + 2) * 3)');
    assert.equal(roundTrip('1 - 2 - 3'), '((1 - 2) - 3)');
    assert.equal(roundTrip('2 ^ 3 ^ 2'), '(2 ^ (3 ^ 2))');
    assert.equal(
      roundTrip('sum(rate({a="b"}[1m])) / 2 > bool 1'),
      '((sum(rate({a="b"} [1m])) / 2) > bool 1)',
    );
    assert.equal(
      roundTrip('sum(rate({a="b"}[1m])) + on (x) group_left (y) sum(rate({a="c"}[1m])) by (x)'),
      '(sum(rate({a="b"} [1m])) + on(x) group_left(y) sum by (x)(rate({a="c"} [1m])))',
    );
  });

  it('refuses invalid queries with Loki-style messages', () => {
    for (const [q, pattern] of [
      ['{job="nginx"', /parse error at line 1, col 13: syntax error/],
      ['', /empty/],
      ['{a=""}', /cannot match an empty value/],
      ['{a=~".*"}', /cannot match an empty value/],
      ['rate({a="b"}[1m]) by (x)', /grouping not allowed for rate/],
      ['sum_over_time({a="b"}[1m])', /without unwrap/],
      ['count_over_time({a="b"} | unwrap x [1m])', /with unwrap/],
      ['{a="b"} | pattern "<_> <_>"', /at least one named capture/],
      ['{a="b"} | pattern "<a><b>"', /two captures/],
      ['{a="b"} | regexp "(\\\\w+)"', /named capture/],
      ['{a="b"} |~ "(unclosed"', /invalid regular expression/],
      ['{a="b"} | line_format "{{ .x | nope }}"', /function "nope" not defined/],
      ['{a="b"} | label_format x=y, x=z', /more than once/],
      ['topk({a="b"}[1m])', /syntax error/],
      ['1 > 2', /BOOL/],
      ['1 and 2', /set operator/],
    ] as const) {
      assert.throws(
        () => parseLogQL(q),
        (err: unknown) => err instanceof LogQLParseError && pattern.test((err as Error).message),
        q,
      );
    }
  });

  it('stream selectors for the metadata endpoints must be plain selectors', () => {
    assert.deepEqual(parseStreamSelector('{a="b"}'), [{ name: 'a', type: '=', value: 'b' }]);
    assert.throws(() => parseStreamSelector('{a="b"} |= "x"'), /without line filters/);
    assert.throws(() => parseStreamSelector('rate({a="b"}[1m])'), /metric query/);
  });
});

describe('tenant scope injection', () => {
  it('adds the tenant matcher to every selector, keeping the query own matchers', () => {
    const e = parseLogQL(
      'sum(rate({tenant=~".+"} |= "x" [1m])) / sum(count_over_time({tenant="globex"}[1m])) or vector(1)',
    );
    const scoped = injectTenantMatcher(e, 'tenant', 'acme');
    const sels = selectorsOf(scoped);
    assert.equal(sels.length, 2);
    for (const s of sels) assert.deepEqual(s.at(-1), { name: 'tenant', type: '=', value: 'acme' });
    assert.deepEqual(sels[0]![0], { name: 'tenant', type: '=~', value: '.+' });
    assert.equal(selectorsOf(e)[0]!.length, 1, 'the original tree is not modified');
    const log = injectTenantMatcher(parseLogQL('{job="x"} | json'), 'org', 'a');
    assert.equal(formatExpr(log), '{job="x", org="a"} | json');
  });
});

describe('Go regex translation', () => {
  it('translates flags, named groups, \\A \\z and POSIX classes', () => {
    assert.deepEqual(goRegexToJs('(?i)foo(?P<n>\\d+)\\z'), { source: 'foo(?<n>\\d+)$', flags: 'i' });
    assert.deepEqual(goRegexToJs('[[:alpha:]][[:digit:]]+'), { source: '[a-zA-Z][0-9]+', flags: '' });
    assert.equal(inlineFlags(goRegexToJs('(?i)ab[c-d]')), '[aA][bB][c-dC-D]');
    assert.ok(new RegExp(`^(?:${inlineFlags(goRegexToJs('(?i)err.*'))})$`).test('ERROR: x'));
  });
});

describe('units', () => {
  it('parses Go durations and humanized byte sizes', () => {
    assert.equal(parseGoDuration('1h30m'), 5400);
    assert.equal(parseGoDuration('1.5s'), 1.5);
    assert.equal(parseGoDuration('250ms'), 0.25);
    assert.equal(parseGoDuration('3d'), undefined);
    assert.equal(parseGoDuration('3d', true), 259_200);
    assert.equal(parseGoDuration('abc'), undefined);
    assert.equal(parseBytes('1.5KB'), 1500);
    assert.equal(parseBytes('2 KiB'), 2048);
    assert.equal(parseBytes('3mb'), 3_000_000);
    assert.equal(parseBytes('42'), 42);
    assert.equal(parseBytes('12 parsecs'), undefined);
  });
});

describe('line_format templates', () => {
  const render = (t: string, labels: Record<string, string>, line = 'the line') =>
    compileTemplate(t).render({ label: (n) => labels[n], line, ms: Date.UTC(2024, 0, 2, 3, 4, 5), ns: 0 });

  it('fields, pipelines and the documented functions', () => {
    const l = { a: 'Hello', b: 'x-y-z', n: '42', p: '  pad  ', empty: '' };
    assert.equal(render('{{.a}} {{ .missing }}!', l), 'Hello !');
    assert.equal(
      render('{{ .a | ToUpper }} {{ .a | lower }} {{ title "hello world" }}', l),
      'HELLO hello Hello World',
    );
    assert.equal(render('{{ replace "-" "+" .b }} {{ Replace .b "-" "_" 1 }}', l), 'x+y+z x_y-z');
    assert.equal(
      render('{{ .p | trim }}|{{ trimPrefix "x-" .b }}|{{ TrimSuffix .b "-z" }}', l),
      'pad|y-z|x-y',
    );
    assert.equal(render('{{ regexReplaceAll "(\\\\w)-(\\\\w)" .b "${2}${1}" }}', l), 'yx-z');
    assert.equal(render('{{ .empty | default "none" }} {{ .a | default "none" }}', l), 'none Hello');
    assert.equal(render('{{ printf "%s=%d %.2f %q" .a .n 3.14159 .b }}', l), 'Hello=42 3.14 "x-y-z"');
    assert.equal(render('{{ add .n 8 }} {{ sub .n 2 }} {{ div .n 5 }} {{ mulf .n 0.5 }}', l), '50 40 8 21');
    assert.equal(render('{{ substr 0 3 .a }}{{ trunc 2 .b }}{{ len .a }}', l), 'Helx-5');
    assert.equal(
      render('{{ contains "ell" .a }} {{ hasPrefix "He" .a }} {{ hasSuffix "q" .a }}', l),
      'true true false',
    );
    assert.equal(
      render('{{ __line__ | ToUpper }} {{ __timestamp__ | unixEpoch }}', l),
      'THE LINE 1704164645',
    );
    assert.equal(render('{{ date "2006-01-02 15:04" __timestamp__ }}', l), '2024-01-02 03:04');
    assert.equal(
      render('{{ .b | b64enc }} {{ "eC15LXo=" | b64dec }} {{ "a b&c" | urlencode }}', l),
      'eC15LXo= x-y-z a%20b%26c',
    );
  });

  it('conditionals, comparisons and whitespace trimming', () => {
    const t = '{{ if eq .s "500" }}error{{ else if gt .n 10 }}big{{ else }}ok{{ end }}';
    assert.equal(render(t, { s: '500', n: '1' }), 'error');
    assert.equal(render(t, { s: '200', n: '11' }), 'big');
    assert.equal(render(t, { s: '200', n: '2' }), 'ok');
    assert.equal(render('a  {{- " b " -}}  c', {}), 'a b c');
    assert.equal(render('{{ if and .x (not .y) }}yes{{ end }}', { x: '1', y: '' }), 'yes');
    assert.equal(render('{{/* note */}}x', {}), 'x');
  });

  it('refuses templates it cannot run', () => {
    assert.throws(() => compileTemplate('{{ .a '), /unclosed action/);
    assert.throws(() => compileTemplate('{{ if .a }}x'), /missing \{\{end\}\}/);
    assert.throws(() => compileTemplate('{{ range .a }}{{ end }}'), /not supported/);
    assert.throws(() => compileTemplate('{{ nope .a }}'), /not defined/);
  });
});
