/**
 * A node_exporter-like workload for storage benchmarks: ~600 series per server, shaped like the
 * real exporter's output — CPU-seconds counters with 2 decimals, byte/packet counters rising by
 * random amounts, page-aligned memory gauges wandering, load averages, temperatures, collector
 * durations with 9 significant digits, and the many constants (sizes, info metrics, flags) a
 * real scrape contains. Values are deterministic per (server, seed). Reusable by other benches.
 */
import type { Label } from '../src/model/labels.ts';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind =
  | { k: 'const'; v: number }
  /** counter rising by rate*[0,1)*15s per scrape, rounded to `decimals`; idle with probability pIdle */
  | { k: 'counter'; rate: number; decimals: number; pIdle: number }
  /** gauge random-walking by ±step (multiple of `quantum`) within [min, max] */
  | { k: 'gauge'; min: number; max: number; step: number; quantum: number }
  /** positive float with `digits` significant digits around `scale` */
  | { k: 'noise'; scale: number; digits: number };

interface SeriesSpec {
  labels: Record<string, string>;
  kind: Kind;
}

function specs(): SeriesSpec[] {
  const out: SeriesSpec[] = [];
  const add = (name: string, labels: Record<string, string>, kind: Kind) =>
    out.push({ labels: { __name__: name, ...labels }, kind });
  const modes: [string, number, number][] = [
    ['idle', 0.85, 0],
    ['iowait', 0.01, 0.3],
    ['irq', 0.001, 0.6],
    ['nice', 0.0005, 0.9],
    ['softirq', 0.004, 0.2],
    ['steal', 0.002, 0.5],
    ['system', 0.03, 0],
    ['user', 0.08, 0],
  ];
  for (let cpu = 0; cpu < 8; cpu++) {
    for (const [mode, rate, pIdle] of modes) {
      add('node_cpu_seconds_total', { cpu: String(cpu), mode }, { k: 'counter', rate, decimals: 2, pIdle });
    }
    add('node_cpu_guest_seconds_total', { cpu: String(cpu), mode: 'nice' }, { k: 'const', v: 0 });
    add('node_cpu_guest_seconds_total', { cpu: String(cpu), mode: 'user' }, { k: 'const', v: 0 });
    add(
      'node_cpu_scaling_frequency_hertz',
      { cpu: String(cpu) },
      { k: 'gauge', min: 8e8, max: 3.6e9, step: 4e8, quantum: 1000 },
    );
    add('node_cpu_scaling_frequency_max_hertz', { cpu: String(cpu) }, { k: 'const', v: 3.6e9 });
    add('node_cpu_scaling_frequency_min_hertz', { cpu: String(cpu) }, { k: 'const', v: 8e8 });
    add(
      'node_softnet_processed_total',
      { cpu: String(cpu) },
      { k: 'counter', rate: 300, decimals: 0, pIdle: 0 },
    );
    add('node_softnet_dropped_total', { cpu: String(cpu) }, { k: 'const', v: 0 });
    add(
      'node_softnet_times_squeezed_total',
      { cpu: String(cpu) },
      { k: 'counter', rate: 0.01, decimals: 0, pIdle: 0.9 },
    );
    for (const type of ['LOC', 'RES', 'CAL', 'TLB', 'NMI', 'PMI']) {
      add(
        'node_interrupts_total',
        { cpu: String(cpu), type },
        type === 'LOC'
          ? { k: 'counter', rate: 250, decimals: 0, pIdle: 0 }
          : { k: 'counter', rate: 2, decimals: 0, pIdle: 0.5 },
      );
    }
  }
  const memGauges = [
    'MemFree',
    'MemAvailable',
    'Buffers',
    'Cached',
    'Active',
    'Inactive',
    'Active_anon',
    'Inactive_anon',
    'Active_file',
    'Inactive_file',
    'Dirty',
    'Writeback',
    'AnonPages',
    'Mapped',
    'Shmem',
    'Slab',
    'SReclaimable',
    'SUnreclaim',
    'KernelStack',
    'PageTables',
    'Committed_AS',
    'VmallocUsed',
    'SwapFree',
    'SwapCached',
  ];
  for (const m of memGauges) {
    add(`node_memory_${m}_bytes`, {}, { k: 'gauge', min: 1e8, max: 8e9, step: 4096 * 64, quantum: 4096 });
  }
  for (const m of [
    'MemTotal',
    'SwapTotal',
    'CommitLimit',
    'VmallocTotal',
    'HugePages_Total',
    'Hugepagesize',
    'DirectMap4k',
    'DirectMap2M',
    'DirectMap1G',
    'Unevictable',
    'Mlocked',
    'Bounce',
    'NFS_Unstable',
    'HardwareCorrupted',
  ]) {
    add(`node_memory_${m}_bytes`, {}, { k: 'const', v: m === 'MemTotal' ? 16_766_169_088 : 4096 * 1000 });
  }
  for (const device of ['eth0', 'eth1', 'lo', 'docker0']) {
    for (const dir of ['receive', 'transmit']) {
      add(
        `node_network_${dir}_bytes_total`,
        { device },
        { k: 'counter', rate: device === 'eth1' ? 0 : 120_000, decimals: 0, pIdle: 0 },
      );
      add(
        `node_network_${dir}_packets_total`,
        { device },
        { k: 'counter', rate: device === 'eth1' ? 0 : 150, decimals: 0, pIdle: 0 },
      );
      for (const c of ['errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'])
        add(`node_network_${dir}_${c}_total`, { device }, { k: 'const', v: 0 });
    }
    add('node_network_up', { device }, { k: 'const', v: 1 });
    add('node_network_mtu_bytes', { device }, { k: 'const', v: 1500 });
    add('node_network_speed_bytes', { device }, { k: 'const', v: 125_000_000 });
    add(
      'node_network_info',
      { device, address: `02:42:ac:11:00:0${device.length}`, operstate: 'up' },
      { k: 'const', v: 1 },
    );
  }
  for (const device of ['nvme0n1', 'sda', 'dm-0', 'dm-1']) {
    add('node_disk_reads_completed_total', { device }, { k: 'counter', rate: 5, decimals: 0, pIdle: 0.3 });
    add('node_disk_writes_completed_total', { device }, { k: 'counter', rate: 40, decimals: 0, pIdle: 0.05 });
    add('node_disk_read_bytes_total', { device }, { k: 'counter', rate: 40_000, decimals: 0, pIdle: 0.3 });
    add(
      'node_disk_written_bytes_total',
      { device },
      { k: 'counter', rate: 400_000, decimals: 0, pIdle: 0.05 },
    );
    add(
      'node_disk_io_time_seconds_total',
      { device },
      { k: 'counter', rate: 0.02, decimals: 3, pIdle: 0.05 },
    );
    add(
      'node_disk_read_time_seconds_total',
      { device },
      { k: 'counter', rate: 0.004, decimals: 3, pIdle: 0.3 },
    );
    add(
      'node_disk_write_time_seconds_total',
      { device },
      { k: 'counter', rate: 0.05, decimals: 3, pIdle: 0.05 },
    );
    add('node_disk_io_now', { device }, { k: 'gauge', min: 0, max: 8, step: 1, quantum: 1 });
    add('node_disk_reads_merged_total', { device }, { k: 'counter', rate: 0.5, decimals: 0, pIdle: 0.6 });
    add('node_disk_writes_merged_total', { device }, { k: 'counter', rate: 10, decimals: 0, pIdle: 0.1 });
    add('node_disk_discards_completed_total', { device }, { k: 'const', v: 0 });
    add('node_disk_info', { device, major: '259', minor: String(device.length) }, { k: 'const', v: 1 });
  }
  for (const [mountpoint, device, fstype] of [
    ['/', '/dev/nvme0n1p2', 'ext4'],
    ['/boot', '/dev/nvme0n1p1', 'vfat'],
    ['/var/lib/docker', '/dev/mapper/vg-docker', 'xfs'],
    ['/run', 'tmpfs', 'tmpfs'],
    ['/home', '/dev/mapper/vg-home', 'ext4'],
  ] as const) {
    const l = { mountpoint, device, fstype };
    add('node_filesystem_size_bytes', l, { k: 'const', v: 4096 * 25_000_000 });
    add('node_filesystem_avail_bytes', l, {
      k: 'gauge',
      min: 4096 * 1e6,
      max: 4096 * 2e7,
      step: 4096 * 20,
      quantum: 4096,
    });
    add('node_filesystem_free_bytes', l, {
      k: 'gauge',
      min: 4096 * 1e6,
      max: 4096 * 2e7,
      step: 4096 * 20,
      quantum: 4096,
    });
    add('node_filesystem_files', l, { k: 'const', v: 6_553_600 });
    add('node_filesystem_files_free', l, { k: 'gauge', min: 5e6, max: 6.5e6, step: 30, quantum: 1 });
    add('node_filesystem_readonly', l, { k: 'const', v: 0 });
    add('node_filesystem_device_error', l, { k: 'const', v: 0 });
  }
  for (const n of ['1', '5', '15'])
    add(`node_load${n}`, {}, { k: 'gauge', min: 0, max: 8, step: 0.2, quantum: 0.01 });
  for (let i = 0; i < 6; i++) {
    add(
      'node_hwmon_temp_celsius',
      { chip: 'platform_coretemp_0', sensor: `temp${i + 1}` },
      { k: 'gauge', min: 30, max: 90, step: 2, quantum: 1 },
    );
    add(
      'node_hwmon_temp_crit_celsius',
      { chip: 'platform_coretemp_0', sensor: `temp${i + 1}` },
      { k: 'const', v: 100 },
    );
    add(
      'node_hwmon_temp_max_celsius',
      { chip: 'platform_coretemp_0', sensor: `temp${i + 1}` },
      { k: 'const', v: 84 },
    );
  }
  const collectors = [
    'arp',
    'bcache',
    'bonding',
    'btrfs',
    'conntrack',
    'cpu',
    'cpufreq',
    'diskstats',
    'dmi',
    'edac',
    'entropy',
    'fibrechannel',
    'filefd',
    'filesystem',
    'hwmon',
    'infiniband',
    'ipvs',
    'loadavg',
    'mdadm',
    'meminfo',
    'netclass',
    'netdev',
    'netstat',
    'nfs',
    'nfsd',
    'nvme',
    'os',
    'powersupplyclass',
    'pressure',
    'rapl',
    'schedstat',
    'selinux',
    'sockstat',
    'softnet',
    'stat',
    'tapestats',
    'textfile',
    'thermal_zone',
    'time',
    'timex',
    'udp_queues',
    'uname',
    'vmstat',
    'xfs',
    'zfs',
  ];
  for (const collector of collectors) {
    add('node_scrape_collector_duration_seconds', { collector }, { k: 'noise', scale: 0.002, digits: 9 });
    add('node_scrape_collector_success', { collector }, { k: 'const', v: 1 });
  }
  for (let i = 0; i < 90; i++) {
    add(
      `node_vmstat_field_${i}`,
      {},
      i % 3 === 0
        ? { k: 'const', v: i * 1000 }
        : { k: 'counter', rate: 10 ** (i % 5), decimals: 0, pIdle: 0.2 },
    );
  }
  for (let i = 0; i < 70; i++) {
    add(
      `node_netstat_field_${i}`,
      {},
      i % 2 === 0 ? { k: 'const', v: 0 } : { k: 'counter', rate: 10 ** (i % 4), decimals: 0, pIdle: 0.3 },
    );
  }
  for (const s of [
    'TCP_alloc',
    'TCP_inuse',
    'TCP_tw',
    'UDP_inuse',
    'sockets_used',
    'TCP_mem',
    'UDP_mem',
    'FRAG_inuse',
    'RAW_inuse',
  ]) {
    add(`node_sockstat_${s}`, {}, { k: 'gauge', min: 0, max: 2000, step: 5, quantum: 1 });
  }
  for (const r of ['cpu', 'io', 'memory']) {
    add(
      `node_pressure_${r}_waiting_seconds_total`,
      {},
      { k: 'counter', rate: 0.01, decimals: 6, pIdle: 0.3 },
    );
  }
  add('node_context_switches_total', {}, { k: 'counter', rate: 8000, decimals: 0, pIdle: 0 });
  add('node_intr_total', {}, { k: 'counter', rate: 5000, decimals: 0, pIdle: 0 });
  add('node_forks_total', {}, { k: 'counter', rate: 20, decimals: 0, pIdle: 0 });
  add('node_procs_running', {}, { k: 'gauge', min: 1, max: 12, step: 2, quantum: 1 });
  add('node_procs_blocked', {}, { k: 'gauge', min: 0, max: 3, step: 1, quantum: 1 });
  add('node_entropy_available_bits', {}, { k: 'const', v: 256 });
  add('node_filefd_allocated', {}, { k: 'gauge', min: 1000, max: 5000, step: 20, quantum: 1 });
  add('node_filefd_maximum', {}, { k: 'const', v: 9.223372036854776e18 });
  add('node_boot_time_seconds', {}, { k: 'const', v: 1_699_000_000 });
  add('node_time_seconds', {}, { k: 'counter', rate: 1, decimals: 6, pIdle: 0 });
  add('node_timex_offset_seconds', {}, { k: 'noise', scale: 0.0001, digits: 6 });
  add('node_timex_sync_status', {}, { k: 'const', v: 1 });
  add(
    'node_uname_info',
    { sysname: 'Linux', release: '6.1.0-18-amd64', machine: 'x86_64', nodename: 'srv' },
    { k: 'const', v: 1 },
  );
  add('node_os_info', { id: 'debian', version_id: '12', name: 'Debian GNU/Linux' }, { k: 'const', v: 1 });
  for (const g of ['go_goroutines', 'go_threads', 'process_open_fds'])
    add(g, {}, { k: 'gauge', min: 5, max: 30, step: 1, quantum: 1 });
  for (const g of [
    'go_memstats_alloc_bytes',
    'go_memstats_heap_alloc_bytes',
    'go_memstats_heap_inuse_bytes',
    'go_memstats_stack_inuse_bytes',
    'process_resident_memory_bytes',
    'process_virtual_memory_bytes',
  ]) {
    add(g, {}, { k: 'gauge', min: 2e6, max: 4e7, step: 8192 * 16, quantum: 8192 });
  }
  for (const c of [
    'go_memstats_alloc_bytes_total',
    'go_memstats_mallocs_total',
    'go_memstats_frees_total',
    'go_gc_duration_seconds_count',
  ]) {
    add(c, {}, { k: 'counter', rate: c.includes('bytes') ? 200_000 : 500, decimals: 0, pIdle: 0 });
  }
  for (const q of ['0', '0.25', '0.5', '0.75', '1'])
    add('go_gc_duration_seconds', { quantile: q }, { k: 'noise', scale: 0.0001, digits: 8 });
  add('process_cpu_seconds_total', {}, { k: 'counter', rate: 0.005, decimals: 2, pIdle: 0.3 });
  add('process_start_time_seconds', {}, { k: 'const', v: 1_699_000_123.45 });
  add(
    'promhttp_metric_handler_requests_total',
    { code: '200' },
    { k: 'counter', rate: 1 / 15, decimals: 0, pIdle: 0 },
  );
  add('up', {}, { k: 'const', v: 1 });
  add('scrape_duration_seconds', {}, { k: 'noise', scale: 0.03, digits: 9 });
  add('scrape_samples_scraped', {}, { k: 'const', v: 600 });
  return out;
}

/** One server's series: labels (sorted) and the current value of each, advanced by step(). */
export class ServerWorkload {
  readonly labels: Label[][];
  readonly values: Float64Array;
  private readonly kinds: Kind[];
  private readonly rnd: () => number;

  constructor(extraLabels: Record<string, string>, seed: number) {
    const all = specs();
    this.rnd = mulberry32(seed);
    this.kinds = all.map((s) => s.kind);
    this.labels = all.map((s) =>
      Object.entries({ ...s.labels, ...extraLabels })
        .map(([name, value]) => ({ name, value }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
    );
    this.values = new Float64Array(all.length);
    for (let i = 0; i < all.length; i++) {
      const k = this.kinds[i]!;
      this.values[i] =
        k.k === 'const'
          ? k.v
          : k.k === 'counter'
            ? round(this.rnd() * k.rate * 86_400 * 30, k.decimals)
            : k.k === 'gauge'
              ? quantize(k.min + this.rnd() * (k.max - k.min), k.quantum)
              : 0;
    }
    this.step();
  }

  get size(): number {
    return this.values.length;
  }

  /** Advances every series by one 15 s scrape. */
  step(): void {
    const rnd = this.rnd;
    for (let i = 0; i < this.kinds.length; i++) {
      const k = this.kinds[i]!;
      switch (k.k) {
        case 'const':
          break;
        case 'counter':
          if (rnd() >= k.pIdle) this.values[i] = round(this.values[i]! + rnd() * k.rate * 15, k.decimals);
          break;
        case 'gauge': {
          const next = this.values[i]! + (rnd() * 2 - 1) * k.step;
          this.values[i] = quantize(Math.min(k.max, Math.max(k.min, next)), k.quantum);
          break;
        }
        case 'noise':
          this.values[i] = Number((k.scale * (0.5 + rnd())).toPrecision(k.digits));
          break;
      }
    }
  }
}

function round(v: number, decimals: number): number {
  const p = 10 ** decimals;
  return Math.round(v * p) / p;
}

function quantize(v: number, q: number): number {
  if (q >= 1) return Math.round(v / q) * q;
  const decimals = Math.round(-Math.log10(q));
  return round(Math.round(v / q) * q, decimals);
}
