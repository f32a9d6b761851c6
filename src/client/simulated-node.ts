import { compareLabels, type Label } from '../model/labels.ts';
import { prng } from './prng.ts';
import type { WriteSeries } from './remote-write.ts';

/**
 * A deterministic simulation of one Linux host as node_exporter exposes it (about 600 series):
 * counters that rise at realistic rates, gauges that wander, a few constants — so compression,
 * query and dashboard figures measured on it mean something. Used by the benchmarks, the demo
 * mode and tests.
 */

type Kind =
  | { type: 'counter'; ratePerSec: number; step: number; jitter: number }
  | { type: 'gauge'; min: number; max: number; step: number; quantum: number }
  | { type: 'const' }
  | { type: 'time' };

interface SeriesModel {
  labels: Label[];
  kind: Kind;
  value: number;
}

export interface SimulatedNodeOptions {
  tenant?: string;
  instance: string;
  job?: string;
  seed?: number;
  cpus?: number;
}

const CPU_MODES: [string, number][] = [
  ['idle', 0.72],
  ['user', 0.16],
  ['system', 0.06],
  ['iowait', 0.02],
  ['irq', 0.002],
  ['softirq', 0.008],
  ['steal', 0.004],
  ['nice', 0.003],
];

const MEMORY_GAUGES = [
  'Active',
  'Active_anon',
  'Active_file',
  'AnonHugePages',
  'AnonPages',
  'Bounce',
  'Buffers',
  'Cached',
  'CommitLimit',
  'Committed_AS',
  'DirectMap2M',
  'DirectMap4k',
  'Dirty',
  'Inactive',
  'Inactive_anon',
  'Inactive_file',
  'KernelStack',
  'Mapped',
  'MemAvailable',
  'MemFree',
  'Mlocked',
  'NFS_Unstable',
  'PageTables',
  'SReclaimable',
  'SUnreclaim',
  'Shmem',
  'Slab',
  'SwapCached',
  'SwapFree',
  'Unevictable',
  'VmallocUsed',
  'Writeback',
];

const FILESYSTEMS: [string, string, string, number][] = [
  ['/dev/vda1', '/', 'ext4', 80e9],
  ['/dev/vda15', '/boot/efi', 'vfat', 130e6],
  ['/dev/vdb1', '/var/lib/data', 'xfs', 500e9],
  ['tmpfs', '/run', 'tmpfs', 800e6],
  ['tmpfs', '/dev/shm', 'tmpfs', 4e9],
];

const NET_DEVICES = ['eth0', 'eth1', 'lo', 'docker0'];
const DISKS = ['vda', 'vdb', 'sr0'];

export class SimulatedNode {
  readonly series: SeriesModel[] = [];
  private readonly random: () => number;

  constructor(readonly options: SimulatedNodeOptions) {
    this.random = prng(options.seed ?? hashString(options.instance));
    const base: Label[] = [
      { name: 'instance', value: options.instance },
      { name: 'job', value: options.job ?? 'node' },
    ];
    if (options.tenant) base.push({ name: 'tenant', value: options.tenant });
    const add = (name: string, extra: Record<string, string>, kind: Kind, value: number) => {
      const labels = [
        { name: '__name__', value: name },
        ...base,
        ...Object.entries(extra).map(([n, v]) => ({ name: n, value: v })),
      ];
      this.series.push({ labels: labels.sort(compareLabels), kind, value });
    };
    const r = this.random;
    const cpus = options.cpus ?? 4;
    const memTotal = 8 * 1024 ** 3;

    for (let cpu = 0; cpu < cpus; cpu++) {
      for (const [mode, share] of CPU_MODES) {
        add(
          'node_cpu_seconds_total',
          { cpu: String(cpu), mode },
          { type: 'counter', ratePerSec: share, step: 0.01, jitter: 0.5 },
          1e5 * share * (1 + r()),
        );
      }
      add('node_cpu_guest_seconds_total', { cpu: String(cpu), mode: 'nice' }, { type: 'const' }, 0);
      add('node_cpu_guest_seconds_total', { cpu: String(cpu), mode: 'user' }, { type: 'const' }, 0);
    }
    add('node_memory_MemTotal_bytes', {}, { type: 'const' }, memTotal);
    add('node_memory_SwapTotal_bytes', {}, { type: 'const' }, 2 * 1024 ** 3);
    for (const m of MEMORY_GAUGES) {
      const max = m === 'SwapFree' ? 2 * 1024 ** 3 : memTotal * 0.6;
      add(
        `node_memory_${m}_bytes`,
        {},
        { type: 'gauge', min: max * 0.05, max, step: max * 0.004, quantum: 4096 },
        max * (0.2 + 0.5 * r()),
      );
    }
    for (const m of ['pgfault', 'pgmajfault', 'pgpgin', 'pgpgout', 'pswpin', 'pswpout']) {
      add(
        `node_vmstat_${m}`,
        {},
        { type: 'counter', ratePerSec: 50 + 2000 * r(), step: 1, jitter: 0.8 },
        1e7 * r(),
      );
    }
    for (const [device, mountpoint, fstype, size] of FILESYSTEMS) {
      const labels = { device, mountpoint, fstype };
      add('node_filesystem_size_bytes', labels, { type: 'const' }, size);
      add('node_filesystem_files', labels, { type: 'const' }, Math.round(size / 16384));
      add('node_filesystem_readonly', labels, { type: 'const' }, 0);
      add('node_filesystem_device_error', labels, { type: 'const' }, 0);
      const fill = {
        type: 'gauge',
        min: size * 0.05,
        max: size * 0.98,
        step: size * 0.0005,
        quantum: 4096,
      } as const;
      add('node_filesystem_avail_bytes', labels, fill, size * (0.3 + 0.4 * r()));
      add('node_filesystem_free_bytes', labels, fill, size * (0.35 + 0.4 * r()));
      add(
        'node_filesystem_files_free',
        labels,
        { type: 'gauge', min: 1000, max: size / 16384, step: 50, quantum: 1 },
        size / 20000,
      );
    }
    const netCounters = [
      'receive_bytes',
      'transmit_bytes',
      'receive_packets',
      'transmit_packets',
      'receive_errs',
      'transmit_errs',
      'receive_drop',
      'transmit_drop',
      'receive_multicast',
      'receive_compressed',
      'transmit_compressed',
      'receive_fifo',
      'transmit_fifo',
      'receive_frame',
      'transmit_colls',
      'transmit_carrier',
    ];
    for (const device of NET_DEVICES) {
      for (const c of netCounters) {
        const busy = c.endsWith('bytes')
          ? 50_000 + 2e6 * r()
          : c.endsWith('packets')
            ? 100 + 2000 * r()
            : r() < 0.8
              ? 0
              : 0.01;
        add(
          `node_network_${c}_total`,
          { device },
          { type: 'counter', ratePerSec: busy, step: 1, jitter: 0.9 },
          busy * 1e5 * r(),
        );
      }
      add('node_network_up', { device }, { type: 'const' }, 1);
      add('node_network_mtu_bytes', { device }, { type: 'const' }, device === 'lo' ? 65536 : 1500);
      add('node_network_speed_bytes', { device }, { type: 'const' }, 125_000_000);
      add('node_network_carrier', { device }, { type: 'const' }, 1);
    }
    const diskCounters: [string, number, number][] = [
      ['reads_completed_total', 20, 1],
      ['writes_completed_total', 60, 1],
      ['read_bytes_total', 400_000, 512],
      ['written_bytes_total', 1_500_000, 512],
      ['io_time_seconds_total', 0.05, 0.001],
      ['read_time_seconds_total', 0.02, 0.001],
      ['write_time_seconds_total', 0.08, 0.001],
      ['io_time_weighted_seconds_total', 0.12, 0.001],
      ['reads_merged_total', 2, 1],
      ['writes_merged_total', 15, 1],
      ['discards_completed_total', 0.1, 1],
      ['discarded_sectors_total', 10, 1],
      ['flush_requests_total', 1, 1],
    ];
    for (const device of DISKS) {
      for (const [c, rate, step] of diskCounters) {
        add(
          `node_disk_${c}`,
          { device },
          { type: 'counter', ratePerSec: rate * r(), step, jitter: 0.9 },
          rate * 1e5 * r(),
        );
      }
      add('node_disk_io_now', { device }, { type: 'gauge', min: 0, max: 8, step: 1, quantum: 1 }, 0);
    }
    add('node_load1', {}, { type: 'gauge', min: 0, max: cpus * 1.5, step: 0.15, quantum: 0.01 }, cpus * 0.3);
    add('node_load5', {}, { type: 'gauge', min: 0, max: cpus * 1.5, step: 0.05, quantum: 0.01 }, cpus * 0.3);
    add('node_load15', {}, { type: 'gauge', min: 0, max: cpus * 1.5, step: 0.02, quantum: 0.01 }, cpus * 0.3);
    add('node_boot_time_seconds', {}, { type: 'const' }, 1_790_000_000 + Math.floor(r() * 1e6));
    add('node_time_seconds', {}, { type: 'time' }, 0);
    for (const m of ['context_switches_total', 'forks_total', 'intr_total']) {
      add(
        `node_${m}`,
        {},
        { type: 'counter', ratePerSec: 100 + 5000 * r(), step: 1, jitter: 0.5 },
        1e8 * r(),
      );
    }
    add('node_procs_running', {}, { type: 'gauge', min: 1, max: 20, step: 1, quantum: 1 }, 3);
    add('node_procs_blocked', {}, { type: 'gauge', min: 0, max: 5, step: 1, quantum: 1 }, 0);
    add(
      'node_entropy_available_bits',
      {},
      { type: 'gauge', min: 200, max: 4096, step: 20, quantum: 1 },
      3000,
    );
    add('node_filefd_allocated', {}, { type: 'gauge', min: 500, max: 20000, step: 20, quantum: 1 }, 3000);
    add('node_filefd_maximum', {}, { type: 'const' }, 9.223372036854776e18);
    for (const s of ['active', 'inactive', 'failed'])
      add('node_systemd_units', { state: s }, { type: 'gauge', min: 0, max: 300, step: 1, quantum: 1 }, 100);
    add(
      'node_uname_info',
      { sysname: 'Linux', release: '6.1.0-27-amd64', machine: 'x86_64', nodename: options.instance },
      { type: 'const' },
      1,
    );
    add('node_exporter_build_info', { version: '1.5.0', goversion: 'go1.19.8' }, { type: 'const' }, 1);
    for (const zone of ['Node 0, zone DMA', 'Node 0, zone DMA32', 'Node 0, zone Normal']) {
      for (const m of [
        'nr_free_pages',
        'nr_active_anon',
        'nr_inactive_anon',
        'nr_active_file',
        'nr_inactive_file',
        'nr_dirty',
        'nr_writeback',
        'nr_mapped',
        'nr_shmem',
        'nr_slab_reclaimable',
        'nr_slab_unreclaimable',
        'nr_kernel_stack',
        'nr_page_table_pages',
        'nr_bounce',
        'nr_unevictable',
        'nr_mlock',
        'nr_anon_pages',
        'nr_file_pages',
        'numa_hit',
        'numa_miss',
        'numa_foreign',
        'numa_interleave',
        'numa_local',
        'numa_other',
        'min',
        'low',
        'high',
        'spanned',
        'present',
        'managed',
      ]) {
        const gauge = !m.startsWith('numa');
        add(
          `node_zoneinfo_${m}_pages`,
          { node: '0', zone: zone.split(' ').pop()! },
          gauge
            ? { type: 'gauge', min: 0, max: 2e6, step: 300, quantum: 1 }
            : { type: 'counter', ratePerSec: 500 * r(), step: 1, jitter: 0.9 },
          1e5 * r(),
        );
      }
    }
    for (const [i, name] of ['acpitz', 'coretemp'].entries()) {
      for (let sensor = 0; sensor < 4; sensor++) {
        add(
          'node_hwmon_temp_celsius',
          { chip: `platform_${name}_${i}`, sensor: `temp${sensor + 1}` },
          { type: 'gauge', min: 30, max: 90, step: 0.5, quantum: 0.001 },
          45,
        );
      }
    }
    for (const c of [
      'TCP_InSegs',
      'TCP_OutSegs',
      'TCP_RetransSegs',
      'Udp_InDatagrams',
      'Udp_OutDatagrams',
      'Ip_Forwarding',
      'Tcp_ActiveOpens',
      'Tcp_PassiveOpens',
      'Tcp_CurrEstab',
      'Icmp_InMsgs',
      'Icmp_OutMsgs',
    ]) {
      add(
        `node_netstat_${c}`,
        {},
        { type: 'counter', ratePerSec: 10 + 1000 * r(), step: 1, jitter: 0.9 },
        1e6 * r(),
      );
    }
    for (let i = 0; this.series.length < 600; i++) {
      add(
        'node_interrupts_total',
        {
          cpu: String(i % cpus),
          devices: `virtio${Math.floor(i / cpus)}`,
          info: 'PCI-MSI-edge',
          type: String(24 + Math.floor(i / cpus)),
        },
        { type: 'counter', ratePerSec: 20 * r(), step: 1, jitter: 0.9 },
        1e5 * r(),
      );
    }
  }

  /** Advances every series by `intervalMs` to timestamp `t`, writing the new values into `out`. */
  advance(t: number, intervalMs: number, out: Float64Array): void {
    const secs = intervalMs / 1000;
    const r = this.random;
    for (let i = 0; i < this.series.length; i++) {
      const s = this.series[i]!;
      const k = s.kind;
      switch (k.type) {
        case 'counter': {
          const inc = k.ratePerSec * secs * (1 - k.jitter / 2 + k.jitter * r());
          s.value = quantize(s.value + inc, k.step);
          break;
        }
        case 'gauge': {
          const next = s.value + (r() - 0.5) * 2 * k.step;
          s.value = Math.min(k.max, Math.max(k.min, quantize(next, k.quantum)));
          break;
        }
        case 'time':
          s.value = t / 1000;
          break;
        case 'const':
          break;
      }
      out[i] = s.value;
    }
  }

  /** Advances every series by `intervalMs` and returns their samples at timestamp `t`. */
  scrape(t: number, intervalMs = 15_000): WriteSeries[] {
    const values = new Float64Array(this.series.length);
    this.advance(t, intervalMs, values);
    return this.series.map((s, i) => ({ labels: s.labels, samples: [{ t, v: values[i]! }] }));
  }
}

/**
 * Rounds to a multiple of `step` the way a value parsed from exposition text is: for decimal steps
 * (0.01, 0.001) the result is the double nearest the decimal, as node_exporter's `12.34` parses,
 * not `1234 * 0.01` (which is off in the last bits and would make the data unrealistically noisy).
 */
function quantize(v: number, step: number): number {
  if (step >= 1) return Math.round(v / step) * step;
  const scale = Math.round(1 / step);
  return Math.round(v * scale) / scale;
}

function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
