import { useState } from 'react';
import { promInstant, promRange, stepFor, type InstantSample, type RangeSeries } from '../api.ts';
import { alignedRange, alignSeries, stepTimestamps } from '../chart-data.ts';
import { PromQLEditor } from '../components/PromQLEditor.tsx';
import { TimeRangePicker, useTimeRange } from '../components/TimeRange.tsx';
import { TimeSeriesChart } from '../components/TimeSeriesChart.tsx';
import { Button, Card, Empty, ErrorBox, PageHeader, Spinner, Tabs } from '../components/ui.tsx';
import { useAsync } from '../hooks.ts';

const MAX_SERIES = 50;

function seriesName(metric: Record<string, string>): string {
  const { __name__: name = '', ...rest } = metric;
  const labels = Object.entries(rest)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v}"`)
    .join(', ');
  return labels ? `${name}{${labels}}` : name || '{}';
}

function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return String(Math.round(v * 1000) / 1000);
}

function Graph({ query }: { query: string }) {
  const t = useTimeRange();
  const step = stepFor(t.rangeMs, 300);
  const win = alignedRange(t.start, t.end, step);
  const res = useAsync(
    (s) => promRange(query, win.start, win.end, step, s),
    [query, win.start, win.end, step],
  );
  if (res.error) return <ErrorBox error={res.error} />;
  if (!res.data) return <Spinner label="Running query" />;
  const ts = stepTimestamps(win.start, win.end, step);
  const data: RangeSeries[] = res.data.slice(0, MAX_SERIES);
  if (data.length === 0) return <Empty>The query returned no data in this time range.</Empty>;
  return (
    <>
      {res.data.length > MAX_SERIES ? (
        <p className="muted small">
          Showing {MAX_SERIES} of {res.data.length} series.
        </p>
      ) : null}
      <TimeSeriesChart
        timestamps={ts}
        series={alignSeries(data, ts, seriesName)}
        format={compact}
        height={320}
        ariaLabel={`Graph of ${query}`}
      />
    </>
  );
}

function ResultTable({ query }: { query: string }) {
  const t = useTimeRange();
  const res = useAsync((s) => promInstant(query, t.end, s), [query, t.end]);
  if (res.error) return <ErrorBox error={res.error} />;
  if (!res.data) return <Spinner label="Running query" />;
  const rows: InstantSample[] = res.data;
  if (rows.length === 0) return <Empty>The query returned no data.</Empty>;
  return (
    <div className="table-wrap">
      <table className="table" aria-label="Query result">
        <thead>
          <tr>
            <th scope="col">Series</th>
            <th scope="col" className="num">
              Value
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              <td className="mono small">{seriesName(r.metric)}</td>
              <td className="num mono" data-value={r.value[1]}>
                {r.value[1]}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const EXAMPLES = [
  {
    label: 'CPU busy % per server',
    query: '100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
  },
  {
    label: 'Memory used %',
    query: '100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)',
  },
  {
    label: 'Network in (bits/s)',
    query: 'sum by (instance) (rate(node_network_receive_bytes_total{device!~"lo|veth.+"}[5m])) * 8',
  },
  { label: 'Endpoint response time', query: 'probe_duration_seconds' },
  { label: 'Endpoints up', query: 'probe_success' },
];

export default function ExplorePage() {
  const [draft, setDraft] = useState('');
  const [query, setQuery] = useState('');
  const [editorKey, setEditorKey] = useState(0);
  const [view, setView] = useState<'graph' | 'table'>('graph');
  const run = (q: string) => setQuery(q.trim());
  const example = (q: string) => {
    setDraft(q);
    setEditorKey((k) => k + 1);
    run(q);
  };
  return (
    <>
      <PageHeader
        title="Explore"
        subtitle="Query this organisation's metrics with PromQL."
        actions={<TimeRangePicker showRefresh={false} />}
      />
      <Card>
        <div className="explore-editor">
          <PromQLEditor key={editorKey} value={draft} onChange={setDraft} onRun={run} />
          <Button variant="primary" onClick={() => run(draft)}>
            Run query
          </Button>
        </div>
        <p className="muted small">Enter runs the query · Shift+Enter adds a line · Ctrl+Space completes</p>
        {!query ? (
          <div className="examples">
            <span className="small muted">Examples:</span>
            {EXAMPLES.map((e) => (
              <button
                key={e.label}
                type="button"
                className="chip-btn"
                title={e.query}
                onClick={() => example(e.query)}
              >
                {e.label}
              </button>
            ))}
          </div>
        ) : null}
      </Card>
      {query ? (
        <Card
          actions={
            <Tabs
              label="Result view"
              value={view}
              onChange={setView}
              tabs={[
                { id: 'graph', label: 'Graph' },
                { id: 'table', label: 'Table' },
              ]}
            />
          }
        >
          {view === 'graph' ? <Graph query={query} /> : <ResultTable query={query} />}
        </Card>
      ) : null}
    </>
  );
}
