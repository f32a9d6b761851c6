import { api, promInstant, sampleValue } from '../api.ts';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import {
  Badge,
  Card,
  Empty,
  ErrorBox,
  PageHeader,
  Spinner,
  StateBadge,
  type Tone,
} from '../components/ui.tsx';
import { ago, ms, pct } from '../format.ts';
import { useAsync } from '../hooks.ts';
import { ENDPOINT_TLS_DAYS, TLS_CRIT_DAYS, TLS_WARN_DAYS } from '../queries.ts';
import { Link } from '../router.tsx';
import { can, useSession } from '../session.tsx';
import type { EndpointStatus } from '../types.ts';

export function tlsTone(days: number): Tone {
  return days < TLS_CRIT_DAYS ? 'bad' : days < TLS_WARN_DAYS ? 'warn' : 'ok';
}

export function TlsBadge({ days }: { days: number | undefined }) {
  if (days === undefined) return <span className="muted">–</span>;
  const label = days < 0 ? 'expired' : `${Math.floor(days)} days`;
  return (
    <Badge
      tone={tlsTone(days)}
      title={
        days < TLS_WARN_DAYS
          ? `certificate expires in under ${days < TLS_CRIT_DAYS ? TLS_CRIT_DAYS : TLS_WARN_DAYS} days`
          : undefined
      }
    >
      {label}
    </Badge>
  );
}

export function uptimeTone(v: number | null): string {
  if (v === null) return 'muted';
  return v >= 99.9 ? 'ok-text' : v >= 99 ? 'warn-text' : 'bad-text';
}

/** TLS days left per endpoint name, from the probe samples. */
export async function tlsDaysByEndpoint(time: number, signal: AbortSignal): Promise<Map<string, number>> {
  const rows = await promInstant(ENDPOINT_TLS_DAYS, time, signal);
  const out = new Map<string, number>();
  for (const r of rows) {
    const name = r.metric.endpoint;
    if (name !== undefined) out.set(name, Math.min(out.get(name) ?? Infinity, sampleValue(r)));
  }
  return out;
}

export function EndpointsPage() {
  const { me } = useSession();
  const t = useTimeRange();
  const status = useAsync(
    (s) => api.get<{ data: EndpointStatus[] }>('/api/v1/endpoints/status', s).then((r) => r.data),
    [t.end],
  );
  const tls = useAsync((s) => tlsDaysByEndpoint(t.end, s), [t.end]);
  const list = [...(status.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <>
      <PageHeader
        title="Websites & endpoints"
        subtitle="Checked by Irin from the outside: availability, response time and certificates."
        actions={<TimeRangePicker />}
      />
      {status.error ? <ErrorBox error={status.error} /> : null}
      {status.loading && !status.data ? (
        <Spinner />
      ) : list.length === 0 ? (
        <Card>
          <Empty>
            No endpoints are checked yet.{' '}
            {can(me.currentOrg, 'editor') ? <Link to="/manage/endpoints">Add an endpoint check</Link> : null}
          </Empty>
        </Card>
      ) : (
        <Card>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Endpoint</th>
                  <th scope="col">State</th>
                  <th scope="col" className="num">
                    24 h
                  </th>
                  <th scope="col" className="num">
                    7 d
                  </th>
                  <th scope="col" className="num">
                    30 d
                  </th>
                  <th scope="col" className="num">
                    Response
                  </th>
                  <th scope="col">TLS certificate</th>
                  <th scope="col">Last check</th>
                </tr>
              </thead>
              <tbody>
                {list.map((e) => (
                  <tr key={e.id} data-endpoint={e.name}>
                    <td>
                      <Link to={`/endpoints/${e.id}`} className="strong">
                        {e.name}
                      </Link>
                      <div className="muted small mono truncate" title={e.url}>
                        {e.method} {e.url}
                      </div>
                    </td>
                    <td>
                      <StateBadge state={e.state} />
                      {e.state === 'down' && e.lastResult?.reason ? (
                        <div className="small bad-text">{e.lastResult.reason.detail}</div>
                      ) : null}
                    </td>
                    {(['24h', '7d', '30d'] as const).map((w) => (
                      <td key={w} className={`num ${uptimeTone(e.uptime[w].uptimePercent)}`}>
                        {pct(e.uptime[w].uptimePercent, 2)}
                      </td>
                    ))}
                    <td className="num">{ms(e.lastResult?.durationSeconds)}</td>
                    <td>
                      <TlsBadge days={tls.data?.get(e.name)} />
                    </td>
                    <td className="muted">{e.lastResult ? ago(e.lastResult.t) : 'never'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Card>
      )}
    </>
  );
}
