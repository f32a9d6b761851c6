import { prng } from '../../src/client/prng.ts';
import { staleNaN } from '../../src/model/samples.ts';
import type { MemorySeries } from '../unit/promql/memory-querier.ts';
import { labels } from '../unit/promql/memory-querier.ts';

/**
 * The conformance suite's deterministic dataset: two hours of samples ending near `now`
 * (Prometheus refuses remote-written samples older than its head allows). Counters with resets,
 * gauges (negative, tiny, huge, NaN), classic histogram buckets, staleness markers, gaps,
 * irregular scrape intervals, several jobs and instances, and node_exporter / blackbox-like
 * series for the dashboard queries.
 */

export const SCRAPE_MS = 15_000;
export const SPAN_MS = 2 * 3600_000;

export interface Dataset {
  /** First sample time (ms, minute-aligned). */
  readonly t0: number;
  readonly series: MemorySeries[];
}

export function buildDataset(now: number): Dataset {
  const t0 = Math.floor(now / 60_000) * 60_000 - SPAN_MS;
  const end = t0 + SPAN_MS;
  const series: MemorySeries[] = [];
  const add = (record: Record<string, string>, samples: { t: number; v: number }[]): void => {
    series.push({ labels: labels(record), samples });
  };
  const every = (
    intervalMs: number,
    f: (t: number, i: number) => number | undefined,
    from = t0,
    to = end,
  ) => {
    const out: { t: number; v: number }[] = [];
    let i = 0;
    for (let t = from; t <= to; t += intervalMs, i++) {
      const v = f(t, i);
      if (v !== undefined) out.push({ t, v });
    }
    return out;
  };

  // Counters: per-instance rates, one with a reset in the middle, one with an irregular interval.
  const instances: [string, string, number][] = [
    ['api', 'a', 1.5],
    ['api', 'b', 3.25],
    ['api', 'c', 0.4],
    ['db', 'd', 7],
    ['db', 'e', 0.05],
  ];
  const random = prng(42);
  for (const [job, instance, rate] of instances) {
    for (const [method, status, share] of [
      ['GET', '200', 0.7],
      ['GET', '500', 0.05],
      ['POST', '200', 0.25],
    ] as const) {
      let v = 0;
      const r = prng(instance.charCodeAt(0) * 31 + status.length + method.length);
      add(
        { __name__: 'http_requests_total', job, instance, method, status },
        every(SCRAPE_MS, (_t, i) => {
          if (instance === 'b' && method === 'GET' && status === '200' && i === 240)
            v = 3; // counter reset
          else v += rate * share * 15 * (0.5 + r());
          return Math.round(v * 1000) / 1000;
        }),
      );
    }
  }
  // A counter scraped at an irregular interval (7–23 s), starting late.
  {
    let v = 100;
    let t = t0 + 17 * 60_000 + 3_000;
    const samples: { t: number; v: number }[] = [];
    while (t <= end) {
      v += 2 + random() * 5;
      samples.push({ t, v: Math.round(v * 100) / 100 });
      t += 7_000 + Math.floor(random() * 16) * 1000;
    }
    add({ __name__: 'irregular_total', job: 'batch', instance: 'x' }, samples);
  }
  // A counter with several resets.
  {
    let v = 0;
    add(
      { __name__: 'resets_total', job: 'batch', instance: 'x' },
      every(SCRAPE_MS, (_t, i) => {
        v = i % 97 === 0 ? i % 5 : v + (i % 7) + 0.5;
        return v;
      }),
    );
  }

  // Gauges.
  for (const [job, instance, base] of instances) {
    const r = prng(base * 1000);
    add(
      { __name__: 'node_load1', job, instance },
      every(SCRAPE_MS, (_t, i) => Math.round((base / 2 + Math.sin(i / 20) * 0.8 + r() * 0.3) * 100) / 100),
    );
    const total = 8 * 1024 ** 3 * (1 + (base % 3));
    add(
      { __name__: 'node_memory_MemTotal_bytes', job, instance },
      every(SCRAPE_MS, () => total),
    );
    add(
      { __name__: 'node_memory_MemAvailable_bytes', job, instance },
      every(SCRAPE_MS, (_t, i) => Math.round(total * (0.3 + 0.2 * Math.cos(i / 40 + base) + r() * 0.05))),
    );
  }
  add(
    { __name__: 'temperature_celsius', job: 'sensors', instance: 'x', room: 'cold' },
    every(SCRAPE_MS, (_t, i) => -12.5 + Math.sin(i / 15) * 3),
  );
  add(
    { __name__: 'temperature_celsius', job: 'sensors', instance: 'x', room: 'warm' },
    every(SCRAPE_MS, (_t, i) => 21.25 + Math.cos(i / 9) * 1.5),
  );
  add(
    { __name__: 'tiny_gauge', job: 'sensors', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => 1e-7 * (1 + (i % 5))),
  );
  add(
    { __name__: 'huge_gauge', job: 'sensors', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => 1.5e21 * (1 + (i % 3))),
  );
  add(
    { __name__: 'nan_gauge', job: 'sensors', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => (i % 10 === 3 ? NaN : i % 10 === 7 ? Infinity : i)),
  );
  add(
    { __name__: 'constant_gauge', job: 'sensors', instance: 'x' },
    every(SCRAPE_MS, () => 42),
  );
  add(
    { __name__: 'bool_gauge', job: 'sensors', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => (i % 12 < 4 ? 0 : 1)),
  );

  // Staleness: a series that goes stale at 40m and comes back at 70m; one that ends at 100m.
  add(
    { __name__: 'flappy_gauge', job: 'api', instance: 'a' },
    every(SCRAPE_MS, (t, i) => {
      const m = (t - t0) / 60_000;
      if (m > 40 && m < 70) return undefined;
      if (m === 40) return staleNaN();
      return 10 + (i % 13);
    }),
  );
  add(
    { __name__: 'ending_gauge', job: 'api', instance: 'b' },
    every(SCRAPE_MS, (t, i) => {
      const m = (t - t0) / 60_000;
      if (m > 100) return undefined;
      if (m === 100) return staleNaN();
      return i * 0.5;
    }),
  );
  // A gap without a staleness marker (series simply not scraped for 12 minutes).
  add(
    { __name__: 'gappy_gauge', job: 'db', instance: 'd' },
    every(SCRAPE_MS, (t, i) => {
      const m = (t - t0) / 60_000;
      if (m > 50 && m < 62) return undefined;
      return 100 - i * 0.25;
    }),
  );

  // Classic histogram: cumulative le buckets, _sum and _count, two jobs, a reset for one.
  const bounds = ['0.05', '0.1', '0.25', '0.5', '1', '2.5', '+Inf'];
  for (const [job, instance, speed] of [
    ['api', 'a', 1],
    ['api', 'b', 2.5],
    ['db', 'd', 0.3],
  ] as const) {
    const counts = new Array<number>(bounds.length).fill(0);
    let sum = 0;
    const perStep: { t: number; counts: number[]; sum: number }[] = [];
    const r = prng(speed * 77);
    for (let t = t0, i = 0; t <= end; t += SCRAPE_MS, i++) {
      if (instance === 'b' && i === 300) {
        counts.fill(0);
        sum = 0;
      }
      const n = 5 + Math.floor(r() * 10);
      for (let k = 0; k < n; k++) {
        const obs = r() * r() * speed;
        sum += obs;
        bounds.forEach((b, bi) => {
          if (obs <= Number(b === '+Inf' ? Infinity : b)) counts[bi]! += 1;
        });
      }
      perStep.push({ t, counts: [...counts], sum });
    }
    bounds.forEach((le, bi) =>
      add(
        { __name__: 'http_request_duration_seconds_bucket', job, instance, le },
        perStep.map((p) => ({ t: p.t, v: p.counts[bi]! })),
      ),
    );
    add(
      { __name__: 'http_request_duration_seconds_sum', job, instance },
      perStep.map((p) => ({ t: p.t, v: Math.round(p.sum * 1e6) / 1e6 })),
    );
    add(
      { __name__: 'http_request_duration_seconds_count', job, instance },
      perStep.map((p) => ({ t: p.t, v: p.counts[bounds.length - 1]! })),
    );
  }
  // A histogram without +Inf bucket and one with non-monotonic buckets.
  for (const le of ['1', '2']) {
    add(
      { __name__: 'broken_histogram_bucket', job: 'api', instance: 'a', le },
      every(SCRAPE_MS, (_t, i) => i * Number(le)),
    );
  }
  for (const [le, f] of [
    ['1', 3],
    ['2', 2],
    ['+Inf', 4],
  ] as const) {
    add(
      { __name__: 'nonmonotonic_bucket', job: 'api', instance: 'a', le },
      every(SCRAPE_MS, (_t, i) => i * f),
    );
  }

  // node_exporter-like series for the dashboard queries.
  const modes: [string, number][] = [
    ['idle', 0.7],
    ['user', 0.18],
    ['system', 0.07],
    ['iowait', 0.03],
    ['steal', 0.02],
  ];
  for (const instance of ['n1', 'n2']) {
    for (const cpu of ['0', '1']) {
      for (const [mode, share] of modes) {
        let v = 1000 * share;
        const r = prng(instance.length * 13 + Number(cpu) * 7 + mode.length);
        add(
          { __name__: 'node_cpu_seconds_total', job: 'node', instance, cpu, mode },
          every(SCRAPE_MS, () => {
            v += 15 * share * (0.8 + r() * 0.4);
            return Math.round(v * 100) / 100;
          }),
        );
      }
    }
    for (const [mountpoint, fstype, size] of [
      ['/', 'ext4', 100e9],
      ['/boot', 'vfat', 1e9],
      ['/run', 'tmpfs', 2e9],
    ] as const) {
      add(
        { __name__: 'node_filesystem_size_bytes', job: 'node', instance, mountpoint, fstype },
        every(SCRAPE_MS, () => size),
      );
      add(
        { __name__: 'node_filesystem_avail_bytes', job: 'node', instance, mountpoint, fstype },
        every(SCRAPE_MS, (_t, i) => Math.round(size * (instance === 'n1' ? 0.5 : 0.2) - i * size * 0.0001)),
      );
      add(
        { __name__: 'node_filesystem_readonly', job: 'node', instance, mountpoint, fstype },
        every(SCRAPE_MS, () => (mountpoint === '/boot' ? 1 : 0)),
      );
    }
    for (const device of ['eth0', 'lo']) {
      let v = 0;
      add(
        { __name__: 'node_network_receive_bytes_total', job: 'node', instance, device },
        every(SCRAPE_MS, () => (v += device === 'lo' ? 1000 : 125_000)),
      );
    }
    add(
      { __name__: 'node_boot_time_seconds', job: 'node', instance },
      every(SCRAPE_MS, () => t0 / 1000 - 86400),
    );
    add(
      { __name__: 'node_time_seconds', job: 'node', instance },
      every(SCRAPE_MS, (t) => t / 1000),
    );
  }
  for (const target of ['https://a.example', 'https://b.example']) {
    add(
      { __name__: 'probe_success', job: 'blackbox', instance: target, target },
      every(SCRAPE_MS * 2, (_t, i) => (target.includes('b') && i % 40 > 33 ? 0 : 1)),
    );
    add(
      { __name__: 'probe_duration_seconds', job: 'blackbox', instance: target, target },
      every(SCRAPE_MS * 2, (_t, i) => 0.1 + ((i * 37) % 11) / 50),
    );
  }
  // Two metrics with the same labels apart from the name (duplicate-labelset errors).
  add(
    { __name__: 'dup_a', job: 'dup', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => i),
  );
  add(
    { __name__: 'dup_b', job: 'dup', instance: 'x' },
    every(SCRAPE_MS, (_t, i) => i * 2),
  );
  // A metric with a label holding characters that need quoting.
  add(
    { __name__: 'quoted_labels', job: 'misc', instance: 'x', path: '/a "b"\\c', emoji: 'ü✓' },
    every(SCRAPE_MS, () => 1),
  );
  return { t0, series };
}
