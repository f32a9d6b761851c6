import {
  api,
  promInstant,
  promRange,
  sampleValue,
  stepFor,
  type InstantSample,
  type RangeSeries,
} from '../api.ts';
import { alignedRange, alignSeries, stepTimestamps } from '../chart-data.ts';
import { Gauge } from '../components/Gauge.tsx';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import { TimeSeriesChart } from '../components/TimeSeriesChart.tsx';
import { Badge, Card, Empty, ErrorBox, PageHeader, Spinner, StateBadge } from '../components/ui.tsx';
import { ago, bitsPerSecond, bytes, duration, num, pct } from '../format.ts';
import { useAsync } from '../hooks.ts';
import {
  combine,
  ENDPOINTS_UP_PANEL,
  healthHistoryPanels,
  healthNowPanels,
  splitByPanel,
  THRESHOLDS,
} from '../queries.ts';
import { Link } from '../router.tsx';
import { can, useSession } from '../session.tsx';
import type { ServerRow } from '../types.ts';

export interface FsUsage {
  mountpoint: string;
  device: string;
  fstype: string;
  used: number;
}

export interface ServerHealth {
  instance: string;
  cpu: number | null;
  mem: number | null;
  rootfs: number | null;
  swap: number | null;
  load1: number | null;
  load5: number | null;
  load15: number | null;
  cores: number | null;
  uptime: number | null;
  rx: number | null;
  tx: number | null;
  memtotal: number | null;
  fs: FsUsage[];
}

const SCALAR_PANELS = [
  'cpu',
  'mem',
  'rootfs',
  'swap',
  'load1',
  'load5',
  'load15',
  'cores',
  'uptime',
  'rx',
  'tx',
  'memtotal',
] as const;

/** Groups the combined instant answer per instance. */
export function healthByInstance(result: InstantSample[]): Map<string, ServerHealth> {
  const out = new Map<string, ServerHealth>();
  const get = (instance: string) => {
    let h = out.get(instance);
    if (!h) {
      h = {
        instance,
        fs: [],
        ...Object.fromEntries(SCALAR_PANELS.map((p) => [p, null])),
      } as unknown as ServerHealth;
      out.set(instance, h);
    }
    return h;
  };
  for (const [panel, samples] of splitByPanel(result)) {
    for (const s of samples) {
      const instance = s.metric.instance;
      if (instance === undefined) continue;
      const v = sampleValue(s);
      if (panel === 'fs') {
        get(instance).fs.push({
          mountpoint: s.metric.mountpoint ?? '',
          device: s.metric.device ?? '',
          fstype: s.metric.fstype ?? '',
          used: v,
        });
      } else if ((SCALAR_PANELS as readonly string[]).includes(panel)) {
        (get(instance) as unknown as Record<string, number | null>)[panel] = v;
      }
    }
  }
  for (const h of out.values()) h.fs.sort((a, b) => a.mountpoint.localeCompare(b.mountpoint));
  return out;
}

function loadPercent(h: ServerHealth): number | null {
  return h.load1 !== null && h.cores ? (h.load1 * 100) / h.cores : null;
}

export function HealthGauges({ h }: { h: ServerHealth }) {
  return (
    <div className="gauges">
      <Gauge label="CPU busy" value={h.cpu} warn={THRESHOLDS.cpu[0]} crit={THRESHOLDS.cpu[1]} />
      <Gauge
        label="Memory used"
        value={h.mem}
        warn={THRESHOLDS.mem[0]}
        crit={THRESHOLDS.mem[1]}
        sub={h.memtotal !== null ? `of ${bytes(h.memtotal)}` : undefined}
      />
      <Gauge label="Root FS used" value={h.rootfs} warn={THRESHOLDS.rootfs[0]} crit={THRESHOLDS.rootfs[1]} />
      <Gauge
        label="Swap used"
        value={h.swap !== null && Number.isFinite(h.swap) ? h.swap : null}
        display={h.swap !== null && !Number.isFinite(h.swap) ? 'no swap' : undefined}
        warn={THRESHOLDS.swap[0]}
        crit={THRESHOLDS.swap[1]}
      />
      <Gauge
        label="Load (1m)"
        value={loadPercent(h)}
        display={h.load1 !== null ? num(h.load1) : undefined}
        warn={THRESHOLDS.load[0]}
        crit={THRESHOLDS.load[1]}
        sub={h.cores ? `${pct(loadPercent(h), 0)} of ${h.cores} cores` : undefined}
      />
    </div>
  );
}

export function FsBars({ fs }: { fs: FsUsage[] }) {
  if (fs.length === 0) return null;
  return (
    <ul className="fs-list" aria-label="Filesystems">
      {fs.map((f) => {
        const tone = f.used >= THRESHOLDS.fs[1] ? 'bad' : f.used >= THRESHOLDS.fs[0] ? 'warn' : 'ok';
        return (
          <li key={`${f.mountpoint}|${f.device}`}>
            <span className="fs-mount mono" title={`${f.device} (${f.fstype})`}>
              {f.mountpoint}
            </span>
            <meter
              className={`fs-meter meter-${tone}`}
              min={0}
              max={100}
              low={THRESHOLDS.fs[0]}
              high={THRESHOLDS.fs[1]}
              optimum={0}
              value={f.used}
              aria-label={`${f.mountpoint} used`}
            />
            <span className="fs-pct" data-value={f.used}>
              {pct(f.used, 0)}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

function ServerCard({
  name,
  h,
  server,
}: {
  name: string;
  h: ServerHealth | undefined;
  server: ServerRow | undefined;
}) {
  return (
    <article className="server-card card" data-instance={name} aria-label={`Server ${name}`}>
      <header className="server-head">
        <div>
          <Link to={`/servers/${encodeURIComponent(name)}`} className="server-name">
            {name}
          </Link>
          <div className="muted small">
            {server
              ? `last seen ${ago(server.lastSeenAt)}`
              : 'not registered (pushes with an org-wide token)'}
          </div>
        </div>
        {server ? <StateBadge state={server.state} /> : h ? <Badge tone="info">reporting</Badge> : null}
      </header>
      {h ? (
        <>
          <HealthGauges h={h} />
          <dl className="facts">
            <div>
              <dt>Uptime</dt>
              <dd data-field="uptime" data-value={h.uptime ?? ''}>
                {h.uptime !== null ? duration(h.uptime) : '–'}
              </dd>
            </div>
            <div>
              <dt>Network in</dt>
              <dd data-field="rx" data-value={h.rx ?? ''}>
                {h.rx !== null ? bitsPerSecond(h.rx) : '–'}
              </dd>
            </div>
            <div>
              <dt>Network out</dt>
              <dd data-field="tx" data-value={h.tx ?? ''}>
                {h.tx !== null ? bitsPerSecond(h.tx) : '–'}
              </dd>
            </div>
            <div>
              <dt>Load 1/5/15</dt>
              <dd>
                {h.load1 !== null
                  ? `${num(h.load1)} · ${num(h.load5 ?? NaN)} · ${num(h.load15 ?? NaN)}`
                  : '–'}
              </dd>
            </div>
          </dl>
          <FsBars fs={h.fs} />
        </>
      ) : (
        <Empty>No metrics from this server in the last 5 minutes.</Empty>
      )}
    </article>
  );
}

/** Latest probe_success per endpoint (1 up, 0 down). */
type ProbeResults = InstantSample[] | undefined;

function Summary({ servers, endpoints }: { servers: ServerRow[] | undefined; endpoints: ProbeResults }) {
  const count = (state: string) => servers?.filter((s) => s.state === state).length ?? 0;
  const epCount = (state: 'up' | 'down') =>
    endpoints?.filter((e) => (sampleValue(e) === 1) === (state === 'up')).length ?? 0;
  return (
    <div className="tiles" aria-label="Summary">
      <div className="tile">
        <div className="tile-value ok-text">{servers ? count('up') : '–'}</div>
        <div className="tile-label">servers up</div>
      </div>
      <div className="tile">
        <div className={`tile-value ${count('stale') ? 'warn-text' : ''}`}>
          {servers ? count('stale') : '–'}
        </div>
        <div className="tile-label">stale</div>
      </div>
      <div className="tile">
        <div className="tile-value muted">{servers ? count('never-seen') : '–'}</div>
        <div className="tile-label">never seen</div>
      </div>
      <Link to="/endpoints" className="tile tile-link">
        <div className="tile-value">
          {endpoints ? (
            <>
              <span className="ok-text">{epCount('up')}</span>
              {epCount('down') ? <span className="bad-text tile-extra">{epCount('down')} down</span> : null}
            </>
          ) : (
            '–'
          )}
        </div>
        <div className="tile-label">endpoints up{endpoints ? ` of ${endpoints.length}` : ''}</div>
      </Link>
    </div>
  );
}

function HistoryCharts({
  result,
  start,
  end,
  step,
}: {
  result: RangeSeries[];
  start: number;
  end: number;
  step: number;
}) {
  const panels = splitByPanel(result);
  const ts = stepTimestamps(start, end, step);
  const byInstance = (m: Record<string, string>) => m.instance ?? '';
  const series = (panel: string, label = byInstance) => alignSeries(panels.get(panel) ?? [], ts, label);
  const net = [...series('rx', (m) => `${m.instance} in`), ...series('tx', (m) => `${m.instance} out`)];
  const charts = [
    {
      title: 'CPU busy',
      data: series('cpu'),
      format: (v: number) => `${v.toFixed(0)}%`,
      yRange: [0, 100] as [number, number],
    },
    {
      title: 'Memory used',
      data: series('mem'),
      format: (v: number) => `${v.toFixed(0)}%`,
      yRange: [0, 100] as [number, number],
    },
    {
      title: 'Root filesystem used',
      data: series('rootfs'),
      format: (v: number) => `${v.toFixed(0)}%`,
      yRange: [0, 100] as [number, number],
    },
    { title: 'Network traffic', data: net, format: bitsPerSecond },
    { title: 'Load (1m)', data: series('load1'), format: (v: number) => v.toFixed(1) },
  ];
  return (
    <div className="chart-grid">
      {charts.map((c) => (
        <Card key={c.title} title={c.title}>
          {c.data.length ? (
            <TimeSeriesChart
              timestamps={ts}
              series={c.data}
              format={c.format}
              yRange={c.yRange}
              ariaLabel={`${c.title} per server over time`}
            />
          ) : (
            <Empty>No data in this time range.</Empty>
          )}
        </Card>
      ))}
    </div>
  );
}

export function Overview() {
  const { me } = useSession();
  const t = useTimeRange();
  const step = stepFor(t.rangeMs);
  const win = alignedRange(t.start, t.end, step);
  const servers = useAsync((s) => api.get<ServerRow[]>('/api/console/servers', s), [t.end]);
  // One query for every gauge of every server, plus the endpoints' latest results.
  const now = useAsync(
    (s) => promInstant(combine({ ...healthNowPanels(), probe: ENDPOINTS_UP_PANEL }), t.end, s),
    [t.end],
  );
  // The charts are below the fold: they load once the gauges are in, not in competition with them.
  const gaugesIn = now.data !== undefined || now.error !== undefined;
  const history = useAsync(
    async (s) =>
      gaugesIn ? promRange(combine(healthHistoryPanels()), win.start, win.end, step, s) : undefined,
    [win.start, win.end, step, gaugesIn],
  );

  const health = now.data ? healthByInstance(now.data) : new Map<string, ServerHealth>();
  const endpoints = now.data ? (splitByPanel(now.data).get('probe') ?? []) : undefined;
  const registered = new Map((servers.data ?? []).map((s) => [s.name, s]));
  const names = [...new Set([...registered.keys(), ...health.keys()])].sort();

  return (
    <>
      <PageHeader
        title="System health"
        subtitle={`${me.currentOrg?.displayName} · ${names.length} server${names.length === 1 ? '' : 's'} · updated ${new Date(t.end).toLocaleTimeString()}`}
        actions={<TimeRangePicker />}
      />
      <Summary servers={servers.data} endpoints={endpoints} />
      {now.error ? <ErrorBox title="Current values" error={now.error} /> : null}
      {servers.error ? <ErrorBox title="Servers" error={servers.error} /> : null}
      {now.loading && !now.data ? (
        <Spinner label="Loading servers" />
      ) : names.length === 0 ? (
        <Card>
          <Empty>
            No servers yet.{' '}
            {can(me.currentOrg, 'admin') ? (
              <>
                <Link to="/manage/servers">Add a server</Link> to get a push token and agent settings.
              </>
            ) : (
              'Ask an organisation admin to add one.'
            )}
          </Empty>
        </Card>
      ) : (
        <div className="server-grid">
          {names.map((n) => (
            <ServerCard key={n} name={n} h={health.get(n)} server={registered.get(n)} />
          ))}
        </div>
      )}
      <h2 className="section-title">History</h2>
      {history.error ? <ErrorBox title="History" error={history.error} /> : null}
      {history.data ? (
        <HistoryCharts result={history.data} start={win.start} end={win.end} step={step} />
      ) : !history.error ? (
        <Spinner label="Loading history" />
      ) : null}
    </>
  );
}
