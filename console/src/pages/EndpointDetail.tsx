import { Fragment } from 'react';
import { api, ApiError, promRange, stepFor } from '../api.ts';
import { alignedRange, alignSeries, stepTimestamps } from '../chart-data.ts';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import { TimeSeriesChart } from '../components/TimeSeriesChart.tsx';
import { Card, Empty, ErrorBox, PageHeader, Spinner, StateBadge } from '../components/ui.tsx';
import { ago, dateTime, duration, ms, pct } from '../format.ts';
import { useAsync } from '../hooks.ts';
import { combine, endpointTimingPanels, splitByPanel } from '../queries.ts';
import { Link } from '../router.tsx';
import type { CalendarDay, EndpointStatus, Incident } from '../types.ts';
import { NotFound } from './NotFound.tsx';
import { tlsDaysByEndpoint, TlsBadge, uptimeTone } from './Endpoints.tsx';

const PHASES = ['resolve', 'connect', 'tls', 'processing', 'transfer'];
const CALENDAR_DAYS = 90;

function Calendar({ days }: { days: CalendarDay[] }) {
  return (
    <div>
      <ol className="calendar" aria-label={`Uptime per day, last ${days.length} days`}>
        {days.map((d) => {
          const label = `${d.date}: ${d.status === 'no_data' ? 'no data' : `${pct(d.uptimePercent, 2)} up`}`;
          return (
            <li
              key={d.date}
              className={`cal-day cal-${d.status}`}
              title={label}
              aria-label={label}
              data-date={d.date}
              data-status={d.status}
            />
          );
        })}
      </ol>
      <div className="calendar-legend small muted">
        <span>{days[0]?.date}</span>
        <span className="legend-items">
          <span className="cal-day cal-ok" aria-hidden="true" /> up
          <span className="cal-day cal-degraded" aria-hidden="true" /> degraded
          <span className="cal-day cal-down" aria-hidden="true" /> down
          <span className="cal-day cal-no_data" aria-hidden="true" /> no data
        </span>
        <span>today</span>
      </div>
    </div>
  );
}

export function EndpointDetail({ id }: { id: string }) {
  const t = useTimeRange();
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const status = useAsync(
    (s) =>
      api
        .get<{ data: EndpointStatus }>(`/api/v1/endpoints/${encodeURIComponent(id)}/status`, s)
        .then((r) => r.data),
    [id, t.end],
  );
  const calendar = useAsync(
    (s) =>
      api
        .get<{ data: { days: CalendarDay[] } }>(
          `/api/v1/endpoints/${encodeURIComponent(id)}/calendar?days=${CALENDAR_DAYS}&tz=${encodeURIComponent(tz)}`,
          s,
        )
        .then((r) => r.data.days),
    [id, t.end],
  );
  const incidents = useAsync(
    (s) =>
      api
        .get<{ data: Incident[] }>(`/api/v1/endpoints/${encodeURIComponent(id)}/incidents?days=30`, s)
        .then((r) => r.data),
    [id, t.end],
  );
  const name = status.data?.name;
  const step = stepFor(t.rangeMs, 200);
  const win = alignedRange(t.start, t.end, step);
  const timing = useAsync(
    async (s) => (name ? promRange(combine(endpointTimingPanels(name)), win.start, win.end, step, s) : []),
    [name, win.start, win.end, step],
  );
  const tls = useAsync(
    async (s) => (name ? (await tlsDaysByEndpoint(t.end, s)).get(name) : undefined),
    [name, t.end],
  );

  if (status.error instanceof ApiError && status.error.status === 404) return <NotFound what="endpoint" />;
  if (status.error) return <ErrorBox error={status.error} />;
  const e = status.data;
  if (!e) return <Spinner />;

  const ts = stepTimestamps(win.start, win.end, step);
  const panels = splitByPanel(timing.data ?? []);
  const phases = alignSeries(panels.get('phase') ?? [], ts, (m) => m.phase ?? '', 1000).sort(
    (a, b) => PHASES.indexOf(a.label) - PHASES.indexOf(b.label),
  );
  const tlsFacts = e.lastProbe?.tls;

  return (
    <>
      <PageHeader
        title={e.name}
        subtitle={
          <>
            <Link to="/endpoints">Websites & endpoints</Link> ›{' '}
            <span className="mono">
              {e.method} {e.url}
            </span>
          </>
        }
        actions={<TimeRangePicker />}
      />
      <div className="tiles">
        <div className="tile">
          <div className="tile-value">
            <StateBadge state={e.state} />
          </div>
          <div className="tile-label">
            {e.lastResult
              ? `checked ${ago(e.lastResult.t)} · every ${e.intervalSeconds} s`
              : 'not checked yet'}
          </div>
        </div>
        {(['24h', '7d', '30d'] as const).map((w) => (
          <div className="tile" key={w}>
            <div className={`tile-value ${uptimeTone(e.uptime[w].uptimePercent)}`} data-uptime={w}>
              {pct(e.uptime[w].uptimePercent, 3)}
            </div>
            <div className="tile-label">
              uptime {w}
              {e.uptime[w].coverage < 0.95 && e.uptime[w].uptimePercent !== null
                ? ` · ${pct(e.uptime[w].coverage * 100, 0)} observed`
                : ''}
            </div>
          </div>
        ))}
        <div className="tile">
          <div className="tile-value">{ms(e.lastResult?.durationSeconds)}</div>
          <div className="tile-label">
            last response{e.lastResult?.statusCode ? ` · HTTP ${e.lastResult.statusCode}` : ''}
          </div>
        </div>
        <div className="tile">
          <div className="tile-value">
            <TlsBadge days={tls.data} />
          </div>
          <div className="tile-label">certificate validity</div>
        </div>
      </div>
      {e.state === 'down' && e.lastResult?.reason ? (
        <div className="alert alert-bad" role="status">
          <strong>Down:</strong> {e.lastResult.reason.detail}{' '}
          <span className="mono small">({e.lastResult.reason.code})</span>
        </div>
      ) : null}

      <Card title={`Uptime, last ${CALENDAR_DAYS} days`}>
        {calendar.error ? (
          <ErrorBox error={calendar.error} />
        ) : calendar.data ? (
          <Calendar days={calendar.data} />
        ) : (
          <Spinner />
        )}
      </Card>

      <div className="chart-grid">
        <Card title="Response time by phase">
          {timing.error ? (
            <ErrorBox error={timing.error} />
          ) : phases.length ? (
            <TimeSeriesChart
              timestamps={ts}
              series={phases}
              stacked
              format={(v) => `${v.toFixed(0)} ms`}
              ariaLabel={`Response time of ${e.name} by phase`}
            />
          ) : timing.loading ? (
            <Spinner />
          ) : (
            <Empty>No response times in this range.</Empty>
          )}
        </Card>
        <Card title="TLS certificate">
          {tlsFacts ? (
            <dl className="kv">
              <dt>Expires</dt>
              <dd>
                {dateTime(tlsFacts.earliestCertExpiry * 1000)} <TlsBadge days={tls.data} />
              </dd>
              <dt>Subject</dt>
              <dd className="mono small">{tlsFacts.leaf.subject}</dd>
              <dt>Issuer</dt>
              <dd className="mono small">{tlsFacts.leaf.issuer}</dd>
              <dt>Protocol</dt>
              <dd>{tlsFacts.version}</dd>
            </dl>
          ) : tls.data !== undefined ? (
            <dl className="kv">
              <dt>Expires</dt>
              <dd>
                {/* days = (expiry − query time) / 86400, so the date follows from the same sample */}
                {dateTime(t.end + tls.data * 86_400_000)} <TlsBadge days={tls.data} />
              </dd>
            </dl>
          ) : (
            <Empty>
              {e.url.startsWith('https:') ? 'No certificate seen yet.' : 'Plain HTTP: no certificate.'}
            </Empty>
          )}
          {e.lastProbe ? (
            <>
              <h3 className="subhead">Last check</h3>
              <dl className="kv">
                {PHASES.map((p) => (
                  <Fragment key={p}>
                    <dt>{p}</dt>
                    <dd>{ms(e.lastProbe!.phases[p])}</dd>
                  </Fragment>
                ))}
                <dt>Redirects</dt>
                <dd>{e.lastProbe.redirects}</dd>
              </dl>
            </>
          ) : null}
        </Card>
      </div>

      <Card title="Incidents, last 30 days">
        {incidents.error ? (
          <ErrorBox error={incidents.error} />
        ) : !incidents.data ? (
          <Spinner />
        ) : incidents.data.length === 0 ? (
          <Empty>No incidents in the last 30 days.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Ended</th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {incidents.data.map((i) => (
                  <tr key={i.start}>
                    <td>
                      {dateTime(i.start)}
                      {i.startedBeforeRange ? ' (or earlier)' : ''}
                    </td>
                    <td>{i.open ? <StateBadge state="down" /> : dateTime(i.end)}</td>
                    <td className="num">{duration(i.durationSeconds)}</td>
                    <td>
                      {i.reason ? (
                        <>
                          {i.reason.detail} <span className="mono small muted">{i.reason.code}</span>
                        </>
                      ) : (
                        <span className="muted">not recorded</span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
    </>
  );
}
