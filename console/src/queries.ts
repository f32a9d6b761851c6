/**
 * The dashboards' PromQL, as the field's common node_exporter and blackbox dashboards compute it
 * (see docs: /work/shared/reference/dashboards.md). Irin injects the tenant matcher server-side,
 * so these never name a tenant.
 *
 * To avoid a waterfall of requests, each view asks for all of its panels in ONE query: every
 * panel's expression is tagged with a `panel` label (label_replace) and the tagged vectors are
 * joined with `or`; the answer is split by that label again here. Each panel is computed
 * `by (instance)` across all servers at once.
 */

export const PANEL_LABEL = 'irin_panel';

/** A selector with extra matchers: sel('node_load1', 'instance="a"') → node_load1{instance="a"}. */
export function sel(metric: string, ...matchers: (string | undefined)[]): string {
  const m = matchers.filter((x): x is string => !!x);
  return m.length ? `${metric}{${m.join(',')}}` : metric;
}

/** Escapes a label value for a PromQL string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function instanceMatcher(instance: string | undefined): string | undefined {
  return instance === undefined ? undefined : `instance=${quote(instance)}`;
}

/** Joins panel expressions into one query tagged by panel name. */
export function combine(panels: Record<string, string>): string {
  return Object.entries(panels)
    .map(([name, expr]) => `label_replace(${expr}, "${PANEL_LABEL}", "${name}", "", "")`)
    .join(' or ');
}

/** Splits a combined answer by panel. */
export function splitByPanel<T extends { metric: Record<string, string> }>(result: T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const r of result) {
    const panel = r.metric[PANEL_LABEL] ?? '';
    const { [PANEL_LABEL]: _drop, ...metric } = r.metric;
    const item = { ...r, metric } as T;
    const list = out.get(panel);
    if (list) list.push(item);
    else out.set(panel, [item]);
  }
  return out;
}

const FS_ROOT = 'mountpoint="/",fstype!="rootfs"';
const FS_REAL = 'fstype!~"rootfs|tmpfs|ramfs",mountpoint!=""';
const NET_DEV = 'device!~"lo|veth.+"';

/** Current values per server (System Health gauges). `i` narrows to one instance. */
export function healthNowPanels(instance?: string): Record<string, string> {
  const i = instanceMatcher(instance);
  return {
    cpu: `100 * (1 - avg by (instance) (rate(${sel('node_cpu_seconds_total', 'mode="idle"', i)}[5m])))`,
    mem: `clamp_min((1 - ${sel('node_memory_MemAvailable_bytes', i)} / ${sel('node_memory_MemTotal_bytes', i)}) * 100, 0)`,
    rootfs: `100 * (${sel('node_filesystem_size_bytes', FS_ROOT, i)} - ${sel('node_filesystem_avail_bytes', FS_ROOT, i)}) / ${sel('node_filesystem_size_bytes', FS_ROOT, i)}`,
    swap: `(${sel('node_memory_SwapTotal_bytes', i)} > bool 0) * ((${sel('node_memory_SwapTotal_bytes', i)} - ${sel('node_memory_SwapFree_bytes', i)}) / ${sel('node_memory_SwapTotal_bytes', i)}) * 100`,
    load1: sel('node_load1', i),
    load5: sel('node_load5', i),
    load15: sel('node_load15', i),
    cores: `count by (instance) (count by (instance, cpu) (${sel('node_cpu_seconds_total', i)}))`,
    uptime: `${sel('node_time_seconds', i)} - ${sel('node_boot_time_seconds', i)}`,
    rx: `sum by (instance) (rate(${sel('node_network_receive_bytes_total', NET_DEV, i)}[5m])) * 8`,
    tx: `sum by (instance) (rate(${sel('node_network_transmit_bytes_total', NET_DEV, i)}[5m])) * 8`,
    fs: `100 * (1 - ${sel('node_filesystem_avail_bytes', FS_REAL, i)} / ${sel('node_filesystem_size_bytes', FS_REAL, i)})`,
    memtotal: sel('node_memory_MemTotal_bytes', i),
  };
}

/** The latest probe result of every endpoint (for the overview's summary tile). */
export const ENDPOINTS_UP_PANEL = 'max by (endpoint) (probe_success)';

/** History per server (System Health charts). */
export function healthHistoryPanels(instance?: string): Record<string, string> {
  const now = healthNowPanels(instance);
  return { cpu: now.cpu!, mem: now.mem!, rootfs: now.rootfs!, rx: now.rx!, tx: now.tx!, load1: now.load1! };
}

/** One server in depth (server page charts). */
export function serverDetailPanels(instance: string): Record<string, string> {
  const i = instanceMatcher(instance);
  const mem = (name: string) => sel(`node_memory_${name}_bytes`, i);
  return {
    cpumode: `100 * avg by (mode) (rate(${sel('node_cpu_seconds_total', 'mode!="idle"', i)}[5m]))`,
    memused: `${mem('MemTotal')} - ${mem('MemFree')} - (${mem('Cached')} + ${mem('Buffers')} + ${mem('SReclaimable')})`,
    memcache: `${mem('Cached')} + ${mem('Buffers')} + ${mem('SReclaimable')}`,
    memfree: mem('MemFree'),
    netrx: `sum by (device) (rate(${sel('node_network_receive_bytes_total', NET_DEV, i)}[5m])) * 8`,
    nettx: `sum by (device) (rate(${sel('node_network_transmit_bytes_total', NET_DEV, i)}[5m])) * 8`,
    diskio: `100 * rate(${sel('node_disk_io_time_seconds_total', 'device=~"[a-z]+|nvme[0-9]+n[0-9]+|mmcblk[0-9]+"', i)}[5m])`,
    load1: sel('node_load1', i),
    load5: sel('node_load5', i),
    load15: sel('node_load15', i),
  };
}

/** Endpoint facts that come from the probe samples rather than the status API. */
export const ENDPOINT_TLS_DAYS = '(probe_ssl_earliest_cert_expiry - time()) / 86400';

export function endpointTimingPanels(endpoint: string): Record<string, string> {
  const e = `endpoint=${quote(endpoint)}`;
  return {
    phase: `sum by (phase) (${sel('probe_http_duration_seconds', e)})`,
    total: `max(${sel('probe_duration_seconds', e)})`,
  };
}

/** Gauge thresholds (warn, critical) as in the common node dashboards. */
export const THRESHOLDS = {
  cpu: [85, 95],
  load: [85, 95],
  mem: [80, 90],
  rootfs: [80, 90],
  fs: [80, 90],
  swap: [10, 25],
} as const;

/** TLS certificate days left: warning under 14, critical under 3. */
export const TLS_WARN_DAYS = 14;
export const TLS_CRIT_DAYS = 3;
