import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PushPrincipal } from '../../../src/auth/principal.ts';
import type { EnforcementPolicy } from '../../../src/edge/enforce-labels.ts';
import { SeriesLabelValidator, type SeriesVerdict } from '../../../src/edge/series-labels.ts';
import { decodeWriteRequest } from '../../../src/edge/write-request.ts';
import { encodeRequest, principal, type TestSeries } from './helpers.ts';

const overwrite: EnforcementPolicy = { tenantLabel: 'tenant', onConflict: 'overwrite' };

function validateAll(
  validator: SeriesLabelValidator,
  series: TestSeries[],
  p: PushPrincipal = principal(),
  policy: EnforcementPolicy = overwrite,
): SeriesVerdict[] {
  const req = decodeWriteRequest(
    Buffer.from(encodeRequest(series.map((s) => ({ samples: [{ t: 1, v: 1 }], ...s })))),
  );
  const ctx = validator.context(p, policy, 0);
  return Array.from({ length: req.seriesCount }, (_, i) => validator.validate(req, i, ctx));
}

function one(...args: Parameters<typeof validateAll>): SeriesVerdict {
  const [verdict] = validateAll(...args);
  assert.ok(verdict);
  return verdict;
}

function labelsText(v: SeriesVerdict): string {
  assert.ok(v.ok, v.ok ? '' : v.message);
  return v.labels.map((l) => `${l.name}=${l.value}`).join(',');
}

describe('SeriesLabelValidator', () => {
  it('sorts, drops empty values and enforces tenant and instance', () => {
    const v = new SeriesLabelValidator();
    const a = one(
      v,
      [
        {
          labels: [
            ['zz', '1'],
            ['__name__', 'up'],
            ['instance', 'forged'],
            ['tenant', 'other'],
            ['blank', ''],
          ],
        },
      ],
      principal({ instance: 'web-1', serverId: 3 }),
    );
    assert.equal(labelsText(a), '__name__=up,instance=web-1,tenant=acme,zz=1');
  });

  it('returns the same frozen label set for the same bytes (cache hit) and keeps contexts apart', () => {
    const v = new SeriesLabelValidator();
    const series = [{ labels: { __name__: 'up', job: 'a' } }];
    const first = one(v, series);
    const second = one(v, series);
    assert.ok(first.ok && second.ok);
    assert.equal(first.labels, second.labels);
    assert.ok(Object.isFrozen(first.labels) && Object.isFrozen(first.labels[0]));
    const other = one(v, series, principal({ tenantId: 2, tenantSlug: 'globex' }));
    assert.equal(labelsText(other), '__name__=up,job=a,tenant=globex');
    assert.equal(v.cachedSeries, 2);
  });

  it('re-validates under changed limits instead of serving a stale cached answer', () => {
    const v = new SeriesLabelValidator();
    const series = [{ labels: { __name__: 'up', job: 'a', x: 'y' } }];
    assert.ok(validateAll(v, series)[0]!.ok);
    const tight = one(v, series, principal({ limits: { maxLabelNamesPerSeries: 3 } }));
    assert.ok(!tight.ok);
    assert.equal(tight.reason, 'max_label_names_per_series');
  });

  it('does not cache refusals and rejects conflicts under the reject policy', () => {
    const v = new SeriesLabelValidator();
    const reject: EnforcementPolicy = { tenantLabel: 'tenant', onConflict: 'reject' };
    const bad = one(v, [{ labels: { __name__: 'up', tenant: 'globex' } }], principal(), reject);
    assert.ok(!bad.ok);
    assert.equal(bad.reason, 'label_conflict');
    assert.match(bad.message, /tenant="globex" but this token may only write tenant="acme"/);
    const same = one(v, [{ labels: { __name__: 'up', tenant: 'acme' } }], principal(), reject);
    assert.equal(labelsText(same), '__name__=up,tenant=acme');
    assert.equal(v.cachedSeries, 1);
  });

  it('refuses invalid UTF-8 in label values', () => {
    const v = new SeriesLabelValidator();
    const buf = Buffer.from(
      encodeRequest([{ labels: { __name__: 'up', a: 'xx' }, samples: [{ t: 1, v: 1 }] }]),
    );
    const at = buf.indexOf('xx');
    buf[at] = 0xc3;
    buf[at + 1] = 0x28; // an invalid two-byte sequence
    const req = decodeWriteRequest(buf);
    const verdict = v.validate(req, 0, v.context(principal(), overwrite, 0));
    assert.ok(!verdict.ok);
    assert.equal(verdict.reason, 'invalid_label_value');
  });

  it('counts label value length in characters, not bytes', () => {
    const v = new SeriesLabelValidator();
    const p = principal({ limits: { maxLabelValueLength: 4 } });
    assert.ok(validateAll(v, [{ labels: { __name__: 'up', a: '😀é✓x' } }], p)[0]!.ok);
    const long = one(v, [{ labels: { __name__: 'up', a: '😀é✓xy' } }], p);
    assert.ok(!long.ok);
    assert.match(long.message, /5 characters long/);
  });

  it('drops idle contexts', () => {
    const v = new SeriesLabelValidator({ idleContextMs: 1000 });
    validateAll(v, [{ labels: { __name__: 'up' } }]);
    assert.equal(v.cachedSeries, 1);
    v.context(principal({ tenantId: 9, tenantSlug: 'z' }), overwrite, 120_000);
    assert.equal(v.cachedSeries, 0);
  });

  it('keeps at most two generations per context', () => {
    const v = new SeriesLabelValidator({ cacheGenerationSize: 10 });
    validateAll(
      v,
      Array.from({ length: 35 }, (_, i) => ({ labels: { __name__: 'm', i: String(i) } })),
    );
    assert.ok(v.cachedSeries <= 20, `cached ${v.cachedSeries}`);
  });
});
