import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getLabel } from '../../../src/model/labels.ts';
import { isStaleNaN } from '../../../src/model/samples.ts';
import type { AppendSeries } from '../../../src/tsdb/types.ts';
import { createAddressPolicy } from '../../../src/probe/address-policy.ts';
import { createMemoryEventStore } from '../../../src/probe/events.ts';
import { createProbeScheduler, firstDue } from '../../../src/probe/scheduler.ts';
import type { ProbeOutcome, ProbeTarget } from '../../../src/probe/types.ts';
import { probeSpec, startServer } from './helpers.ts';
import type { TestServer } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function target(id: number, over: Partial<ProbeTarget> = {}): ProbeTarget {
  return {
    id,
    tenantId: 1,
    tenantSlug: 'acme',
    name: `ep${id}`,
    intervalSeconds: 0.2,
    ...probeSpec('http://127.0.0.1:1/', { timeoutSeconds: 1 }),
    ...over,
  };
}

/** Collects what the scheduler writes: tenant → series. */
function collectingSink() {
  const writes: { tenantId: number; series: AppendSeries[] }[] = [];
  const sink = async (tenantId: number, series: AppendSeries[]) => {
    writes.push({ tenantId, series });
  };
  const samplesOf = (endpoint: string, metric = 'probe_success') =>
    writes
      .flatMap((w) => w.series)
      .filter((s) => getLabel(s.labels, 'endpoint') === endpoint && getLabel(s.labels, '__name__') === metric)
      .flatMap((s) => s.samples);
  return { writes, sink, samplesOf };
}

function fakeOutcome(success: boolean, startedAt: number): ProbeOutcome {
  return {
    startedAt,
    success,
    reason: success ? null : { code: 'status_mismatch', detail: 'status 503, expected 2xx' },
    durationSeconds: 0.01,
    statusCode: success ? 200 : 503,
    httpVersion: 1.1,
    contentLength: 0,
    bodyBytes: 0,
    bodyTruncated: false,
    redirects: 0,
    ssl: false,
    failedDueToRegex: null,
    phases: { resolve: 0, connect: 0, tls: 0, processing: 0, transfer: 0 },
    dnsLookupSeconds: 0,
    ipProtocol: 4,
    finalUrl: 'http://x/',
    tls: null,
  };
}

test('first runs are spread over the interval and keep a stable phase', () => {
  const now = 1_700_000_000_123;
  const offsets = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const due = firstDue(`1:${i}`, 60_000, now);
    assert.ok(due > now && due <= now + 60_000);
    assert.equal(firstDue(`1:${i}`, 60_000, now + 5_000) % 60_000, due % 60_000, 'same phase later');
    offsets.add(Math.floor((due - now) / 6_000));
  }
  assert.ok(offsets.size >= 7, `spread over the interval (${offsets.size}/10 buckets used)`);
});

describe('scheduler with real probes', () => {
  let hang: TestServer;
  let fast: TestServer;
  before(async () => {
    hang = await startServer(() => {}); // accepts, never answers
    fast = await startServer((_q, r) => r.writeHead(200).end('ok'));
  });
  after(async () => {
    await hang.close();
    await fast.close();
  });

  test('hanging endpoints do not delay another endpoint, and never run twice at once', async () => {
    const { sink, samplesOf } = collectingSink();
    const endpoints = [
      ...[1, 2, 3].map((id) =>
        target(id, { url: `${hang.url}/hang${id}`, intervalSeconds: 0.25, timeoutSeconds: 1 }),
      ),
      target(4, { url: `${fast.url}/`, intervalSeconds: 0.2 }),
    ];
    const scheduler = createProbeScheduler({
      source: { listEnabledEndpoints: () => endpoints },
      sink,
      http: { policy: createAddressPolicy({ allow: ['127.0.0.0/8'] }) },
      concurrency: 8,
      perTenantConcurrency: 4,
    });
    await scheduler.start();
    await sleep(2200);
    assert.equal(scheduler.lastResult(1, 1)?.reason?.code, 'timeout');
    await scheduler.stop({ graceMs: 50 });
    const fastTimes = samplesOf('ep4').map((s) => s.t);
    assert.ok(fastTimes.length >= 8, `fast endpoint probed ${fastTimes.length} times in 2.2 s at 0.2 s`);
    const gaps = fastTimes.slice(1).map((t, i) => t - fastTimes[i]!);
    assert.ok(Math.max(...gaps) < 600, `fast endpoint gaps ${gaps.join(',')} ms`);
    assert.ok(samplesOf('ep4').every((s) => s.v === 1));
    for (const id of [1, 2, 3]) {
      const s = samplesOf(`ep${id}`);
      // 1 s timeout, 0.25 s interval: one probe at a time, so at most ~2 results in 2.2 s.
      assert.ok(s.length >= 1 && s.length <= 3, `ep${id}: ${s.length} results`);
      assert.ok(s.every((x) => x.v === 0));
    }
    assert.ok(scheduler.stats().skipped > 0, 'slots of a still-running endpoint were skipped');
    // Each hanging endpoint had at most one connection open at any time: total ≤ results + the aborted ones.
    assert.ok(hang.connections() <= 3 * 3 + 3, `hang connections ${hang.connections()}`);
  });
});

describe('scheduler with a fake probe', () => {
  test('bounded concurrency, per-tenant fairness, one run per endpoint at a time', async () => {
    const { sink, samplesOf } = collectingSink();
    let running = 0;
    let maxRunning = 0;
    const perTenant = new Map<number, number>();
    let maxTenantA = 0;
    const perEndpoint = new Set<string>();
    let doubleRun = false;
    const endpoints = [
      ...Array.from({ length: 10 }, (_, i) =>
        target(100 + i, { tenantId: 1, tenantSlug: 'a', intervalSeconds: 0.1, timeoutSeconds: 5 }),
      ),
      target(200, { tenantId: 2, tenantSlug: 'b', intervalSeconds: 0.1 }),
    ];
    const scheduler = createProbeScheduler({
      source: { listEnabledEndpoints: () => endpoints },
      sink,
      concurrency: 4,
      perTenantConcurrency: 2,
      probe: async (t, signal) => {
        const key = `${t.tenantId}:${t.id}`;
        if (perEndpoint.has(key)) doubleRun = true;
        perEndpoint.add(key);
        running++;
        perTenant.set(t.tenantId, (perTenant.get(t.tenantId) ?? 0) + 1);
        maxRunning = Math.max(maxRunning, running);
        maxTenantA = Math.max(maxTenantA, perTenant.get(1) ?? 0);
        const startedAt = Date.now();
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, t.tenantId === 1 ? 600 : 5);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        running--;
        perTenant.set(t.tenantId, perTenant.get(t.tenantId)! - 1);
        perEndpoint.delete(key);
        return fakeOutcome(true, startedAt);
      },
    });
    await scheduler.start();
    await sleep(1500);
    await scheduler.stop({ graceMs: 10 });
    assert.equal(doubleRun, false, 'an endpoint never ran twice at once');
    assert.ok(maxRunning <= 4, `max running ${maxRunning}`);
    assert.equal(maxTenantA, 2, 'tenant A held at most its share');
    const b = samplesOf('ep200');
    assert.ok(
      b.length >= 10,
      `tenant B probed ${b.length} times in 1.5 s at 0.1 s despite tenant A's backlog`,
    );
  });

  test('reload: removed endpoints stop and go stale, added ones start, changes apply', async () => {
    const { sink, samplesOf, writes } = collectingSink();
    let endpoints = [target(1, { intervalSeconds: 0.1 })];
    const scheduler = createProbeScheduler({
      source: { listEnabledEndpoints: () => endpoints },
      sink,
      reloadIntervalMs: 60_000,
      probe: async () => fakeOutcome(true, Date.now()),
    });
    await scheduler.start();
    await sleep(350);
    endpoints = [target(2, { intervalSeconds: 0.1 })];
    await scheduler.reload();
    const removedAt = Date.now();
    await sleep(350);
    endpoints = [target(2, { intervalSeconds: 0.1, name: 'renamed' })];
    await scheduler.reload();
    await sleep(350);
    await scheduler.stop();
    const one = samplesOf('ep1');
    const staleAt = one.findIndex((s) => isStaleNaN(s.v));
    assert.ok(staleAt > 0, 'removed endpoint got a staleness marker');
    assert.equal(staleAt, one.length - 1, 'and nothing after it');
    assert.ok(one[staleAt]!.t <= removedAt + 50);
    const staleNames = new Set(
      writes
        .flatMap((w) => w.series)
        .filter((s) => getLabel(s.labels, 'endpoint') === 'ep1' && isStaleNaN(s.samples[0]!.v))
        .map((s) => getLabel(s.labels, '__name__')),
    );
    assert.ok(
      staleNames.has('probe_duration_seconds') && staleNames.has('probe_http_status_code'),
      'every series goes stale',
    );
    assert.ok(
      samplesOf('ep2').some((s) => s.v === 1),
      'added endpoint probed',
    );
    assert.ok(samplesOf('renamed').length > 0, 'the new name is used after the change');
    assert.ok(
      samplesOf('ep2').some((s) => isStaleNaN(s.v)),
      'series under the old name went stale',
    );
  });

  test('state changes are recorded once, and survive a restart', async () => {
    const events = createMemoryEventStore();
    const { sink } = collectingSink();
    const script = [false, false, true, true];
    let i = 0;
    const mk = () =>
      createProbeScheduler({
        source: { listEnabledEndpoints: () => [target(5, { intervalSeconds: 0.05 })] },
        sink,
        events,
        probe: async () => fakeOutcome(script[Math.min(i++, script.length - 1)]!, Date.now()),
      });
    const s1 = mk();
    await s1.start();
    await sleep(400);
    await s1.stop();
    assert.deepEqual(
      (await events.read(1)).map((e) => [e.state, e.reason?.code ?? null]),
      [
        ['down', 'status_mismatch'],
        ['up', null],
      ],
    );
    const s2 = mk();
    await s2.start();
    await sleep(200);
    await s2.stop();
    assert.equal((await events.read(1)).length, 2, 'a restart does not record "up" again');
  });
});
