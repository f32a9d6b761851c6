/** A half-circle gauge for a percentage, coloured by thresholds (warn, critical). */

function arc(cx: number, cy: number, r: number, from: number, to: number): string {
  // Angles in [0, 1] along the half circle, left to right.
  const a0 = Math.PI * (1 - from);
  const a1 = Math.PI * (1 - to);
  const x0 = cx + r * Math.cos(a0);
  const y0 = cy - r * Math.sin(a0);
  const x1 = cx + r * Math.cos(a1);
  const y1 = cy - r * Math.sin(a1);
  return `M ${x0.toFixed(2)} ${y0.toFixed(2)} A ${r} ${r} 0 0 1 ${x1.toFixed(2)} ${y1.toFixed(2)}`;
}

export function toneFor(value: number | null, warn: number, crit: number): 'ok' | 'warn' | 'bad' | 'muted' {
  if (value === null || !Number.isFinite(value)) return 'muted';
  return value >= crit ? 'bad' : value >= warn ? 'warn' : 'ok';
}

export function Gauge({
  label,
  value,
  warn,
  crit,
  display,
  max = 100,
  sub,
}: {
  label: string;
  value: number | null;
  warn: number;
  crit: number;
  display?: string;
  max?: number;
  sub?: string;
}) {
  const ok = value !== null && Number.isFinite(value);
  const frac = ok ? Math.min(1, Math.max(0, value / max)) : 0;
  const tone = toneFor(value, warn, crit);
  const text = display ?? (ok ? `${value.toFixed(value >= 99.95 ? 0 : 1)}%` : '–');
  return (
    <div
      className="gauge"
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={ok ? Number(value.toFixed(2)) : undefined}
      aria-valuetext={text}
      data-value={ok ? value : ''}
    >
      <svg viewBox="0 0 120 68" aria-hidden="true">
        <path d={arc(60, 62, 50, 0, 1)} className="gauge-track" />
        {ok && frac > 0.002 ? (
          <path d={arc(60, 62, 50, 0, frac)} className={`gauge-bar gauge-${tone}`} />
        ) : null}
        <text x="60" y="58" textAnchor="middle" className="gauge-value">
          {text}
        </text>
      </svg>
      <div className="gauge-label">{label}</div>
      {sub ? <div className="gauge-sub">{sub}</div> : null}
    </div>
  );
}
