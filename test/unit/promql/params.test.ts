import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ParamError,
  parseDurationParam,
  parseFormEncoded,
  parseTimeParam,
  readParams,
} from '../../../src/api/params.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('request parameter hygiene', () => {
  it('reads URL parameters and form bodies, decoding names and values once', () => {
    const p = readParams(
      { method: 'POST', url: '/q?time=1&match%5B%5D=a', headers: form, body: 'query=sum%28x%29+by+%28y%29' },
      { multi: ['match[]'] },
    );
    assert.equal(p.get('query'), 'sum(x) by (y)');
    assert.equal(p.get('time'), '1');
    assert.deepEqual(p.getAll('match[]'), ['a']);
  });

  it('accepts repeated multi-valued parameters from one place', () => {
    const p = readParams(
      { method: 'GET', url: '/s?match[]=a&match[]=b', headers: {} },
      { multi: ['match[]'] },
    );
    assert.deepEqual(p.getAll('match[]'), ['a', 'b']);
  });

  const refused: [string, Parameters<typeof readParams>[0], RegExp][] = [
    [
      'the same parameter in URL and body',
      { method: 'POST', url: '/q?query=a', headers: form, body: 'query=b' },
      /both in the URL and in the form body/,
    ],
    [
      'a multi-valued parameter in URL and body',
      { method: 'POST', url: '/q?match[]=a', headers: form, body: 'match[]=b' },
      /both in the URL/,
    ],
    [
      'a single-valued parameter twice',
      { method: 'GET', url: '/q?query=a&query=b', headers: {} },
      /given more than once/,
    ],
    [
      'a repeat hidden by encoding',
      { method: 'GET', url: '/q?query=a&%71uery=b', headers: {} },
      /given more than once/,
    ],
    [
      'a repeat inside the body',
      { method: 'POST', url: '/q', headers: form, body: 'start=1&start=2' },
      /given more than once/,
    ],
    ['semicolon separators', { method: 'GET', url: '/q?query=a;time=1', headers: {} }, /semicolon/],
    ['broken percent escapes', { method: 'GET', url: '/q?query=%zz', headers: {} }, /invalid URL escape/],
    [
      'a JSON body',
      { method: 'POST', url: '/q', headers: { 'content-type': 'application/json' }, body: '{"query":"up"}' },
      /unsupported request body content type/,
    ],
    [
      'a body on GET',
      { method: 'GET', url: '/q?query=up', headers: { 'content-length': '8' }, body: 'query=x' },
      /must not carry a body/,
    ],
  ];
  for (const [what, req, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => readParams(req, { multi: ['match[]'] }),
        (err: unknown) => err instanceof ParamError && message.test(err.message),
      );
    });
  }

  it('parses form encoding strictly', () => {
    assert.deepEqual(parseFormEncoded('a=1&b=&c&d=x+y%2Bz', 'test'), [
      ['a', '1'],
      ['b', ''],
      ['c', ''],
      ['d', 'x y+z'],
    ]);
  });
});

describe('time and duration parameters', () => {
  it('reads unix seconds with a fraction, rounded to the millisecond', () => {
    assert.equal(parseTimeParam('1700000000'), 1_700_000_000_000);
    assert.equal(parseTimeParam('1700000000.1234'), 1_700_000_000_123);
    assert.equal(parseTimeParam('1700000000.9996'), 1_700_000_001_000);
    assert.equal(parseTimeParam('1e9'), 1_000_000_000_000);
  });

  it('reads RFC 3339 with zones and fractions', () => {
    assert.equal(parseTimeParam('2023-11-14T22:13:20Z'), 1_700_000_000_000);
    assert.equal(parseTimeParam('2023-11-14T23:13:20.250+01:00'), 1_700_000_000_250);
  });

  it('refuses anything else, naming the value', () => {
    for (const bad of ['', 'now', '2023-11-14', 'NaN', 'Inf', '1700000000s']) {
      assert.throws(() => parseTimeParam(bad), /cannot parse .* to a valid timestamp/);
    }
  });

  it('reads durations as seconds or Prometheus durations', () => {
    assert.equal(parseDurationParam('15'), 15_000);
    assert.equal(parseDurationParam('0.5'), 500);
    assert.equal(parseDurationParam('5m'), 300_000);
    assert.equal(parseDurationParam('1h30m'), 5_400_000);
    assert.throws(() => parseDurationParam('5 minutes'), /cannot parse "5 minutes" to a valid duration/);
    assert.throws(() => parseDurationParam('1e300'), /overflows int64/);
  });
});
