import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileMetadataStore } from '../../../src/edge/metadata-store.ts';
import { IngestionRateLimiter, TokenBucket } from '../../../src/edge/rate-limit.ts';
import { RejectionReporter } from '../../../src/edge/rejection-reporter.ts';
import {
  decompressSnappyBlock,
  SnappyBodyError,
  snappyDeclaredLength,
} from '../../../src/edge/snappy-block.ts';
import type { RejectionReport } from '../../../src/edge/rejections.ts';
import { principal, snappyBody } from './helpers.ts';

describe('TokenBucket / IngestionRateLimiter', () => {
  it('refills at the rate up to the burst', () => {
    const b = new TokenBucket(10, 0);
    assert.equal(b.deficit(10, 5, 10, 0), 0);
    b.take(10);
    assert.equal(b.deficit(5, 5, 10, 0), 5);
    assert.equal(b.deficit(5, 5, 10, 1000), 0);
    assert.equal(b.deficit(10, 5, 10, 100_000), 0, 'capped at the burst');
  });

  it('admits a request larger than the burst only from a full bucket, leaving it in debt', () => {
    const limiter = new IngestionRateLimiter();
    const p = principal({ limits: { ingestionRate: 10, ingestionBurst: 20 } });
    assert.deepEqual(limiter.admit(p, 50, 0), { ok: true });
    const refused = limiter.admit(p, 1, 1000);
    assert.ok(!refused.ok);
    assert.equal(refused.scope, 'tenant');
    // 30 tokens of debt + 1 needed, 10 refilled after 1 s: 21 more at 10/s.
    assert.equal(refused.retryAfterSeconds, 3);
    assert.deepEqual(limiter.admit(p, 1, 4100), { ok: true });
  });

  it('charges both buckets only when both admit', () => {
    const limiter = new IngestionRateLimiter();
    const limits = { ingestionRate: 1, ingestionBurst: 10, serverIngestionRate: 1, serverIngestionBurst: 6 };
    const server = principal({ serverId: 1, instance: 's1', limits });
    const tenantWide = principal({ limits });
    assert.deepEqual(limiter.admit(server, 6, 0), { ok: true });
    const r = limiter.admit(server, 1, 0);
    assert.ok(!r.ok && r.scope === 'server');
    assert.deepEqual(
      limiter.admit(tenantWide, 4, 0),
      { ok: true },
      'the refused request took nothing from the tenant',
    );
    const t = limiter.admit(principal({ serverId: 2, instance: 's2', limits }), 1, 0);
    assert.ok(!t.ok && t.scope === 'tenant', 'a fresh server is still held to its tenant');
    limiter.forgetTenant(1);
    assert.deepEqual(limiter.admit(server, 6, 0), { ok: true });
  });
});

describe('RejectionReporter', () => {
  it('forwards at most one report per tenant, server and reason per interval', () => {
    const seen: RejectionReport[] = [];
    const r = new RejectionReporter((x) => seen.push(x), 1000);
    const base = { tenantId: 1, serverId: 2, status: 429, reason: 'rate_limited' as const, message: 'm' };
    r.report(base, 0);
    r.report(base, 500);
    r.report({ ...base, serverId: 3 }, 500);
    r.report({ ...base, reason: 'series_limit' }, 500);
    r.report(base, 1000);
    assert.equal(seen.length, 4);
  });

  it('survives a throwing hook', () => {
    const errors: unknown[] = [];
    const r = new RejectionReporter(
      () => {
        throw new Error('boom');
      },
      1000,
      (e) => errors.push(e),
    );
    r.report({ tenantId: 1, status: 400, reason: 'empty_body', message: 'x' }, 0);
    assert.equal(errors.length, 1);
  });
});

describe('snappy block', () => {
  it('reads the declared length from the preamble', () => {
    assert.equal(snappyDeclaredLength(snappyBody(new Uint8Array(300))), 300);
    assert.equal(snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])), 0xffffffff);
    assert.equal(
      snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f])),
      undefined,
      'over 32 bits',
    );
    assert.equal(snappyDeclaredLength(Buffer.from([0xff, 0xff])), undefined, 'truncated');
  });

  it('decompresses within the limit, refuses above it with 413 and garbage with 400', () => {
    const data = Buffer.from('hello '.repeat(100));
    assert.deepEqual(decompressSnappyBlock(snappyBody(data), 600), data);
    assert.throws(
      () => decompressSnappyBlock(snappyBody(data), 599),
      (e: unknown) => e instanceof SnappyBodyError && e.status === 413 && e.declaredLength === 600,
    );
    assert.throws(
      () => decompressSnappyBlock(Buffer.from([0x05, 0x01, 0x02]), 100),
      (e: unknown) => e instanceof SnappyBodyError && e.status === 400,
    );
  });
});

describe('FileMetadataStore', () => {
  it('keeps metadata per tenant, newest variant first, honours metric and limit, persists and reloads', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irin-meta-'));
    try {
      const store = new FileMetadataStore({ dataDir: dir, flushIntervalMs: 0 });
      store.record(1, [
        { metric: 'a_total', type: 'counter', help: 'A.', unit: '' },
        { metric: 'b', type: 'gauge', help: 'B.', unit: 'bytes' },
      ]);
      store.record(1, [{ metric: 'a_total', type: 'counter', help: 'A, newer help.', unit: '' }]);
      store.record(2, [{ metric: 'secret', type: 'gauge', help: 'Other tenant.', unit: '' }]);
      assert.deepEqual(store.get(1, 'a_total'), {
        a_total: [
          { type: 'counter', help: 'A, newer help.', unit: '' },
          { type: 'counter', help: 'A.', unit: '' },
        ],
      });
      assert.deepEqual(Object.keys(store.get(1)), ['a_total', 'b']);
      assert.deepEqual(Object.keys(store.get(1, undefined, 1)), ['a_total']);
      assert.deepEqual(store.get(1, 'secret'), {});
      await store.close();
      const file = join(dir, 'tenants', '1', 'metadata.json');
      assert.ok(existsSync(file));
      assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, 1);

      const reopened = new FileMetadataStore({ dataDir: dir, flushIntervalMs: 0 });
      assert.deepEqual(reopened.get(1, 'b'), { b: [{ type: 'gauge', help: 'B.', unit: 'bytes' }] });
      await reopened.dropTenant(1);
      assert.ok(!existsSync(file));
      assert.deepEqual(reopened.get(1), {});
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bounds metrics per tenant and tolerates a corrupt file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irin-meta-'));
    try {
      mkdirSync(join(dir, 'tenants', '5'), { recursive: true });
      writeFileSync(join(dir, 'tenants', '5', 'metadata.json'), '{not json');
      const errors: unknown[] = [];
      const store = new FileMetadataStore({
        dataDir: dir,
        flushIntervalMs: 0,
        maxMetricsPerTenant: 2,
        onError: (e) => errors.push(e),
      });
      store.record(
        5,
        ['x', 'y', 'z'].map((metric) => ({ metric, type: 'gauge' as const, help: '', unit: '' })),
      );
      assert.deepEqual(Object.keys(store.get(5)), ['x', 'y']);
      assert.equal(errors.length, 1);
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
