import { api, promInstant, promRange, stepFor } from '../api.ts';
import { alignedRange, alignSeries, stepTimestamps } from '../chart-data.ts';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import { TimeSeriesChart } from '../components/TimeSeriesChart.tsx';
import { Card, Empty, ErrorBox, PageHeader, Spinner, StateBadge } from '../components/ui.tsx';
import { ago, bitsPerSecond, bytes, duration } from '../format.ts';
import { useAsync } from '../hooks.ts';
import { combine, healthNowPanels, serverDetailPanels, splitByPanel } from '../queries.ts';
import { Link } from '../router.tsx';
import type { ServerRow } from '../types.ts';
import { FsBars, healthByInstance, HealthGauges } from './Overview.tsx';

/** One server in depth: current gauges, CPU by mode, memory breakdown, network per device, disk I/O. */
export function ServerDetail({ instance }: { instance: string }) {
  const t = useTimeRange();
  const step = stepFor(t.rangeMs);
  const win = alignedRange(t.start, t.end, step);
  const servers = useAsync((s) => api.get<ServerRow[]>('/api/console/servers', s), [t.end]);
  const now = useAsync((s) => promInstant(combine(healthNowPanels(instance)), t.end, s), [instance, t.end]);
  const hist = useAsync(
    (s) => promRange(combine(serverDetailPanels(instance)), win.start, win.end, step, s),
    [instance, win.start, win.end, step],
  );
  const server = servers.data?.find((s) => s.name === instance);
  const h = now.data ? healthByInstance(now.data).get(instance) : undefined;
  const ts = stepTimestamps(win.start, win.end, step);
  const panels = hist.data ? splitByPanel(hist.data) : new Map();
  const s = (panel: string, label: (m: Record<string, string>) => string) =>
    alignSeries(panels.get(panel) ?? [], ts, label);

  const charts = [
    {
      title: 'CPU by mode',
      data: s('cpumode', (m) => m.mode ?? ''),
      format: (v: number) => `${v.toFixed(0)}%`,
      stacked: true,
    },
    {
      title: 'Memory',
      data: [
        ...s('memused', () => 'used'),
        ...s('memcache', () => 'cache & buffers'),
        ...s('memfree', () => 'free'),
      ],
      format: bytes,
      stacked: true,
      bytes: true,
    },
    {
      title: 'Network traffic',
      data: [...s('netrx', (m) => `${m.device} in`), ...s('nettx', (m) => `${m.device} out`)],
      format: bitsPerSecond,
    },
    {
      title: 'Disk I/O utilisation',
      data: s('diskio', (m) => m.device ?? ''),
      format: (v: number) => `${v.toFixed(0)}%`,
    },
    {
      title: 'Load average',
      data: [...s('load1', () => '1m'), ...s('load5', () => '5m'), ...s('load15', () => '15m')],
      format: (v: number) => v.toFixed(2),
    },
  ];

  return (
    <>
      <PageHeader
        title={instance}
        subtitle={
          <>
            <Link to="/">System health</Link> › server
            {server ? (
              <>
                {' '}
                · <StateBadge state={server.state} /> last seen {ago(server.lastSeenAt)}
                {server.lastSeenAddr ? ` from ${server.lastSeenAddr}` : ''}
              </>
            ) : null}
          </>
        }
        actions={<TimeRangePicker />}
      />
      {now.error ? <ErrorBox error={now.error} /> : null}
      {now.loading && !now.data ? (
        <Spinner />
      ) : h ? (
        <div className="detail-top" data-instance={instance}>
          <Card title="Now">
            <HealthGauges h={h} />
            <dl className="facts">
              <div>
                <dt>Uptime</dt>
                <dd>{h.uptime !== null ? duration(h.uptime) : '–'}</dd>
              </div>
              <div>
                <dt>Network in / out</dt>
                <dd>
                  {h.rx !== null && h.tx !== null ? `${bitsPerSecond(h.rx)} / ${bitsPerSecond(h.tx)}` : '–'}
                </dd>
              </div>
              <div>
                <dt>Memory</dt>
                <dd>{h.memtotal !== null ? bytes(h.memtotal) : '–'}</dd>
              </div>
              <div>
                <dt>CPU cores</dt>
                <dd>{h.cores ?? '–'}</dd>
              </div>
            </dl>
          </Card>
          <Card title="Filesystems">
            {h.fs.length ? <FsBars fs={h.fs} /> : <Empty>No filesystem metrics.</Empty>}
          </Card>
        </div>
      ) : (
        <Card>
          <Empty>No current metrics for {instance}. Check that its agent is running and pushing.</Empty>
        </Card>
      )}
      {hist.error ? <ErrorBox error={hist.error} /> : null}
      {hist.data ? (
        <div className="chart-grid">
          {charts.map((c) => (
            <Card key={c.title} title={c.title}>
              {c.data.length ? (
                <TimeSeriesChart
                  timestamps={ts}
                  series={c.data}
                  format={c.format}
                  stacked={c.stacked}
                  bytes={'bytes' in c ? c.bytes : undefined}
                  ariaLabel={`${c.title} of ${instance}`}
                />
              ) : (
                <Empty>No data in this time range.</Empty>
              )}
            </Card>
          ))}
        </div>
      ) : hist.loading ? (
        <Spinner label="Loading history" />
      ) : null}
    </>
  );
}
