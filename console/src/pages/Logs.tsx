import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { lokiApi, lokiTailUrl, stepFor, type LokiStream, type RangeSeries } from '../api.ts';
import { alignedRange, alignSeries, stepTimestamps } from '../chart-data.ts';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import { TimeSeriesChart } from '../components/TimeSeriesChart.tsx';
import { Button, Card, Empty, ErrorBox, PageHeader, Spinner } from '../components/ui.tsx';
import { useAsync } from '../hooks.ts';
import { buildQuery, buildSelector, fallbackLabel } from '../logql.ts';

interface LogLine {
  /** Nanoseconds since the epoch, as a string (exact). */
  ts: string;
  line: string;
  labels: Record<string, string>;
  key: string;
}

const LINE_LIMIT = 500;
const TAIL_KEEP = 1000;

function flatten(streams: LokiStream[]): LogLine[] {
  const out: LogLine[] = [];
  for (const s of streams) {
    for (const [ts, line] of s.values)
      out.push({ ts, line, labels: s.stream, key: `${ts}|${JSON.stringify(s.stream)}|${line.slice(0, 40)}` });
  }
  // Newest first; nanosecond strings of equal length compare as numbers.
  return out.sort((a, b) =>
    a.ts.length !== b.ts.length ? b.ts.length - a.ts.length : b.ts < a.ts ? -1 : b.ts > a.ts ? 1 : 0,
  );
}

function timeOf(ns: string): string {
  const d = new Date(Number(ns.slice(0, -6)));
  return `${d.toLocaleDateString(undefined, { month: 'short', day: '2-digit' })} ${d.toLocaleTimeString(undefined, { hour12: false })}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function levelOf(l: LogLine): string {
  const v = (l.labels.level ?? l.labels.detected_level ?? l.labels.severity ?? '').toLowerCase();
  if (v) return v;
  const m = /\b(error|err|fatal|crit|warn|warning|info|debug)\b/i.exec(l.line.slice(0, 200));
  return m ? m[1]!.toLowerCase() : '';
}

function LabelBrowser({
  labels,
  chosen,
  onToggle,
  start,
  end,
}: {
  labels: string[];
  chosen: Record<string, string>;
  onToggle(name: string, value: string): void;
  start: number;
  end: number;
}) {
  const [open, setOpen] = useState<string>();
  const values = useAsync(
    async () => (open ? lokiApi.labelValues(open, start, end) : []),
    [open, start, end],
  );
  return (
    <nav className="label-browser" aria-label="Log labels">
      <h2 className="subhead">Labels</h2>
      {labels.length === 0 ? <p className="muted small">No log streams in this time range.</p> : null}
      <ul>
        {labels.map((name) => (
          <li key={name}>
            <button
              type="button"
              className="label-name"
              aria-expanded={open === name}
              onClick={() => setOpen(open === name ? undefined : name)}
            >
              <span aria-hidden="true">{open === name ? '▾' : '▸'}</span> {name}
              {chosen[name] !== undefined ? <span className="chip chip-small">{chosen[name]}</span> : null}
            </button>
            {open === name ? (
              values.loading ? (
                <Spinner />
              ) : values.error ? (
                <ErrorBox error={values.error} />
              ) : (
                <ul className="label-values">
                  {(values.data ?? []).map((v) => (
                    <li key={v}>
                      <button
                        type="button"
                        aria-pressed={chosen[name] === v}
                        className={chosen[name] === v ? 'label-value selected' : 'label-value'}
                        onClick={() => onToggle(name, v)}
                      >
                        {v}
                      </button>
                    </li>
                  ))}
                </ul>
              )
            ) : null}
          </li>
        ))}
      </ul>
    </nav>
  );
}

function LogRow({ l }: { l: LogLine }) {
  const [open, setOpen] = useState(false);
  const level = levelOf(l);
  return (
    <li className={`log-row${open ? ' open' : ''}`}>
      <button type="button" className="log-summary" aria-expanded={open} onClick={() => setOpen(!open)}>
        <span
          className={`log-level lvl-${level || 'none'}`}
          aria-label={level ? `level ${level}` : undefined}
        />
        <time className="log-time mono">{timeOf(l.ts)}</time>
        <span
          className="log-source small"
          title={Object.entries(l.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}
        >
          {l.labels.instance ?? l.labels.job ?? ''}
        </span>
        <span className="log-line mono">{l.line}</span>
      </button>
      {open ? (
        <div className="log-detail">
          <pre className="mono">{l.line}</pre>
          <table className="table table-compact">
            <tbody>
              {Object.entries(l.labels)
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([k, v]) => (
                  <tr key={k}>
                    <th scope="row" className="mono">
                      {k}
                    </th>
                    <td className="mono">{v}</td>
                  </tr>
                ))}
              <tr>
                <th scope="row">timestamp</th>
                <td className="mono">
                  {new Date(Number(l.ts.slice(0, -6))).toISOString()} ({l.ts} ns)
                </td>
              </tr>
            </tbody>
          </table>
        </div>
      ) : null}
    </li>
  );
}

export function LogsPage() {
  const t = useTimeRange();
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const [filter, setFilter] = useState('');
  const [caseInsensitive, setCaseInsensitive] = useState(true);
  const [custom, setCustom] = useState<string | null>(null);
  const [draft, setDraft] = useState('');
  const [submitted, setSubmitted] = useState<string | null>(null);
  const [tailing, setTailing] = useState(false);
  const [tailLines, setTailLines] = useState<LogLine[]>([]);
  const [tailError, setTailError] = useState('');
  const socket = useRef<WebSocket | null>(null);

  const labels = useAsync(() => lokiApi.labels(t.start, t.end), [t.start, t.end]);
  const labelNames = (labels.data ?? []).filter((l) => l !== '__name__' && l !== 'tenant');
  const built = buildQuery(buildSelector(chosen, fallbackLabel(labelNames)), filter, caseInsensitive);
  const effective = custom ?? built;
  useEffect(() => setDraft(effective), [effective]);
  const query = submitted ?? (labelNames.length ? effective : null);

  const step = stepFor(t.rangeMs, 80);
  const win = alignedRange(t.start, t.end, step);
  const lines = useAsync(
    async (s) => {
      if (!query) return [];
      const r = await lokiApi.queryRange<LokiStream[]>(
        query,
        t.start,
        t.end,
        { limit: String(LINE_LIMIT), direction: 'backward' },
        s,
      );
      if (r.resultType !== 'streams')
        throw new Error('this is a metric query; use Explore for charts, or remove the aggregation');
      return flatten(r.result);
    },
    [query, t.start, t.end],
  );
  const volume = useAsync(
    async (s) => {
      if (!query) return [];
      const r = await lokiApi.queryRange<RangeSeries[]>(
        `sum(count_over_time(${query} [${step}s]))`,
        win.start,
        win.end,
        { step: String(step) },
        s,
      );
      return r.result;
    },
    [query, win.start, win.end, step],
  );
  const volumeTs = useMemo(() => stepTimestamps(win.start, win.end, step), [win.start, win.end, step]);

  const toggle = (name: string, value: string) => {
    setCustom(null);
    setSubmitted(null);
    setChosen((c) => {
      const next = { ...c };
      if (next[name] === value) delete next[name];
      else next[name] = value;
      return next;
    });
  };

  const run = (e?: FormEvent) => {
    e?.preventDefault();
    if (draft !== built) setCustom(draft);
    setSubmitted(draft);
  };

  const stopTail = () => {
    socket.current?.close();
    socket.current = null;
    setTailing(false);
  };
  const startTail = () => {
    if (!query) return;
    setTailLines([]);
    setTailError('');
    const ws = new WebSocket(lokiTailUrl(query, Date.now() - 60_000));
    socket.current = ws;
    setTailing(true);
    ws.onmessage = (ev) => {
      try {
        const msg = JSON.parse(String(ev.data)) as { streams?: LokiStream[] };
        const fresh = flatten(msg.streams ?? []);
        if (fresh.length) setTailLines((prev) => [...fresh, ...prev].slice(0, TAIL_KEEP));
      } catch {
        /* ignore a malformed frame */
      }
    };
    ws.onerror = () => setTailError('the live tail connection failed');
    ws.onclose = (ev) => {
      if (socket.current === ws) {
        socket.current = null;
        setTailing(false);
        if (ev.code !== 1000 && ev.reason) setTailError(ev.reason);
      }
    };
  };
  useEffect(() => () => socket.current?.close(), []);

  const shown = tailing ? tailLines : (lines.data ?? []);
  return (
    <>
      <PageHeader
        title="Logs"
        subtitle="Browse labels, filter by text, or write LogQL."
        actions={<TimeRangePicker />}
      />
      <div className="logs-layout">
        <Card className="logs-side">
          {labels.error ? <ErrorBox error={labels.error} /> : null}
          <LabelBrowser labels={labelNames} chosen={chosen} onToggle={toggle} start={t.start} end={t.end} />
        </Card>
        <div className="logs-main">
          <Card>
            <form className="log-query" onSubmit={run}>
              <div className="log-filter-row">
                <div className="field grow">
                  <label htmlFor="log-filter">Line contains</label>
                  <input
                    id="log-filter"
                    type="search"
                    placeholder="text to look for, e.g. error"
                    value={filter}
                    onChange={(e) => {
                      setFilter(e.target.value);
                      setCustom(null);
                      setSubmitted(null);
                    }}
                  />
                </div>
                <label className="check">
                  <input
                    type="checkbox"
                    checked={caseInsensitive}
                    onChange={(e) => {
                      setCaseInsensitive(e.target.checked);
                      setCustom(null);
                      setSubmitted(null);
                    }}
                  />
                  Ignore case
                </label>
              </div>
              <div className="field">
                <label htmlFor="logql">LogQL query</label>
                <div className="query-row">
                  <input
                    id="logql"
                    className="mono grow"
                    value={draft}
                    onChange={(e) => setDraft(e.target.value)}
                    spellCheck={false}
                  />
                  <Button type="submit" variant="primary">
                    Run query
                  </Button>
                  {tailing ? (
                    <Button variant="danger" onClick={stopTail}>
                      ■ Stop live tail
                    </Button>
                  ) : (
                    <Button onClick={startTail} disabled={!query}>
                      ▶ Live tail
                    </Button>
                  )}
                </div>
                {custom !== null ? (
                  <button
                    type="button"
                    className="link-btn small"
                    onClick={() => {
                      setCustom(null);
                      setSubmitted(null);
                    }}
                  >
                    Back to the label and text filters
                  </button>
                ) : null}
              </div>
            </form>
          </Card>
          <Card title="Log volume">
            {volume.error ? (
              <ErrorBox error={volume.error} />
            ) : volume.data && volume.data.length ? (
              <TimeSeriesChart
                timestamps={volumeTs}
                series={alignSeries(volume.data, volumeTs, () => 'lines')}
                bars
                height={120}
                format={(v) => String(Math.round(v))}
                ariaLabel="Number of log lines over time"
              />
            ) : volume.loading ? (
              <Spinner />
            ) : (
              <Empty>No log lines in this time range.</Empty>
            )}
          </Card>
          <Card
            title={
              tailing
                ? `Live tail · ${tailLines.length} line${tailLines.length === 1 ? '' : 's'}`
                : `Lines${lines.data ? ` · ${lines.data.length}${lines.data.length >= LINE_LIMIT ? '+' : ''}` : ''}`
            }
            actions={<span className="muted small">newest first</span>}
          >
            {tailError ? <ErrorBox error={tailError} /> : null}
            {!tailing && lines.error ? <ErrorBox error={lines.error} /> : null}
            {!tailing && lines.loading && !lines.data ? <Spinner /> : null}
            {shown.length === 0 && !(lines.loading && !tailing) ? (
              <Empty>{tailing ? 'Waiting for new lines…' : 'No lines match.'}</Empty>
            ) : (
              <ol className="log-list" aria-label="Log lines">
                {shown.map((l) => (
                  <LogRow key={l.key} l={l} />
                ))}
              </ol>
            )}
          </Card>
        </div>
      </div>
    </>
  );
}
