import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { useInterval } from '../hooks.ts';

export const RANGES = [
  { id: '15m', label: 'Last 15 minutes', ms: 15 * 60_000 },
  { id: '1h', label: 'Last hour', ms: 3_600_000 },
  { id: '6h', label: 'Last 6 hours', ms: 6 * 3_600_000 },
  { id: '24h', label: 'Last 24 hours', ms: 86_400_000 },
  { id: '7d', label: 'Last 7 days', ms: 7 * 86_400_000 },
  { id: '30d', label: 'Last 30 days', ms: 30 * 86_400_000 },
] as const;

export const REFRESHES = [
  { id: 0, label: 'Off' },
  { id: 10_000, label: '10 s' },
  { id: 30_000, label: '30 s' },
  { id: 60_000, label: '1 min' },
  { id: 300_000, label: '5 min' },
] as const;

export type RangeId = (typeof RANGES)[number]['id'];

interface TimeRangeState {
  range: RangeId;
  rangeMs: number;
  /** End of the window (ms): "now" as of the last refresh. */
  end: number;
  start: number;
  refreshMs: number;
  setRange(r: RangeId): void;
  setRefreshMs(ms: number): void;
  refresh(): void;
}

const Ctx = createContext<TimeRangeState | null>(null);

/** Time range and auto-refresh shared by the dashboards (kept while moving between pages). */
export function TimeRangeProvider({ children }: { children: ReactNode }) {
  const [range, setRange] = useState<RangeId>('1h');
  const [refreshMs, setRefreshMs] = useState(30_000);
  const [end, setEnd] = useState(() => Date.now());
  const refresh = useCallback(() => setEnd(Date.now()), []);
  useInterval(refresh, refreshMs);
  const rangeMs = RANGES.find((r) => r.id === range)!.ms;
  const value = useMemo(
    () => ({
      range,
      rangeMs,
      end,
      start: end - rangeMs,
      refreshMs,
      setRange: (r: RangeId) => {
        setRange(r);
        setEnd(Date.now());
      },
      setRefreshMs,
      refresh,
    }),
    [range, rangeMs, end, refreshMs, refresh],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useTimeRange(): TimeRangeState {
  const v = useContext(Ctx);
  if (!v) throw new Error('useTimeRange outside TimeRangeProvider');
  return v;
}

export function TimeRangePicker({ showRefresh = true }: { showRefresh?: boolean }) {
  const t = useTimeRange();
  return (
    <div className="toolbar" role="group" aria-label="Time range and refresh">
      <label className="inline-label">
        <span className="sr-only">Time range</span>
        <select
          aria-label="Time range"
          value={t.range}
          onChange={(e) => t.setRange(e.target.value as RangeId)}
        >
          {RANGES.map((r) => (
            <option key={r.id} value={r.id}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      {showRefresh ? (
        <label className="inline-label">
          <span className="muted small">Auto-refresh</span>
          <select
            aria-label="Auto-refresh interval"
            value={t.refreshMs}
            onChange={(e) => t.setRefreshMs(Number(e.target.value))}
          >
            {REFRESHES.map((r) => (
              <option key={r.id} value={r.id}>
                {r.label}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <button type="button" className="btn btn-default" onClick={t.refresh} aria-label="Refresh now">
        ↻ Refresh
      </button>
    </div>
  );
}
