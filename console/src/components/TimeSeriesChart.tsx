import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { cssVar, PALETTE, useTheme } from '../theme.tsx';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color?: string;
}

export interface ChartProps {
  /** Unix seconds, ascending, shared by every series. */
  timestamps: number[];
  series: ChartSeries[];
  /** Formats axis ticks and legend values. */
  format?: (v: number) => string;
  height?: number;
  /** Fixed y range, e.g. [0, 100] for percentages. */
  yRange?: [number, number];
  /** Draw bars (log volume) instead of lines. */
  bars?: boolean;
  /** Stack the series (areas). */
  stacked?: boolean;
  /** Values are bytes: ticks at powers of two. */
  bytes?: boolean;
  /** Accessible summary of what the chart shows. */
  ariaLabel: string;
}

/** Cumulative sums for a stacked chart (nulls count as 0 in the stack). */
function stack(series: ChartSeries[]): (number | null)[][] {
  const out: (number | null)[][] = [];
  let acc: number[] = [];
  series.forEach((s, i) => {
    acc = s.values.map((v, j) => (v ?? 0) + (i > 0 ? acc[j]! : 0));
    out.push(acc.slice());
  });
  return out;
}

/** A time-series chart on uPlot: resizes with its container and follows the theme. */
const BYTE_INCRS = Array.from({ length: 50 }, (_, i) => 2 ** i);

export function TimeSeriesChart({
  timestamps,
  series,
  format,
  height = 220,
  yRange,
  bars,
  stacked,
  bytes,
  ariaLabel,
}: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const { theme } = useTheme();
  const shape = `${theme}|${series.map((s) => s.label).join('\u0000')}|${bars}|${stacked}|${yRange?.join(',')}|${height}|${bytes}`;

  // Stacked: cumulative sums, drawn top layer first so each lower layer paints over the one above
  // (uPlot fills each series from zero); the legend then also reads top to bottom.
  const drawn = stacked ? [...series].reverse() : series;
  const values = stacked ? stack(series).reverse() : series.map((s) => s.values);
  const data = [timestamps, ...values] as uPlot.AlignedData;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const fmt = format ?? ((v: number) => String(Math.round(v * 100) / 100));
    const axisColor = cssVar('--text-muted');
    const gridColor = cssVar('--grid');
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      legend: { show: true, live: true },
      scales: {
        x: { time: true },
        y: yRange
          ? { range: yRange }
          : { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor } },
        {
          stroke: axisColor,
          grid: { stroke: gridColor, width: 1 },
          ticks: { stroke: gridColor },
          ...(bytes ? { incrs: BYTE_INCRS } : {}),
          // Wide enough for the longest tick label of the current scale.
          size: (_u, values) =>
            Math.max(40, 18 + 7.5 * Math.max(0, ...(values ?? []).map((v) => String(v).length))),
          values: (_u, splits) => splits.map((v) => fmt(v)),
        },
      ],
      series: [
        {},
        ...drawn.map((s) => {
          const i = series.indexOf(s);
          const color = s.color ?? PALETTE[i % PALETTE.length]!;
          return {
            label: s.label,
            stroke: color,
            width: bars ? 0 : 1.5,
            fill: bars ? color + 'cc' : stacked ? color + '66' : undefined,
            points: { show: false },
            spanGaps: false,
            value: (_u: uPlot, v: number | null) => (v === null ? '–' : fmt(v)),
            ...(bars ? { paths: uPlot.paths.bars!({ size: [0.8, 40] }) } : {}),
          } satisfies uPlot.Series;
        }),
      ],
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, data, el);
    const ro = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0) plot.current.setSize({ width: el.clientWidth, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Rebuilt only when the shape changes; data updates go through setData below.
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [timestamps, series]);

  return <div className="chart" ref={box} role="img" aria-label={ariaLabel} />;
}
