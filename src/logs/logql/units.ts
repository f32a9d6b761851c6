/**
 * Value parsers LogQL borrows from Go: durations (time.ParseDuration, plus Prometheus's d/w/y for
 * ranges) and byte sizes (go-humanize's ParseBytes: SI and IEC units, case-insensitive).
 */

const GO_UNITS_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};

const PROM_EXTRA_UNITS: Record<string, number> = { d: 86_400, w: 604_800, y: 31_536_000 };

/**
 * Parses a Go duration ("1h30m", "1.5s", "300ms", "-2m") into seconds; with `promUnits`, also
 * accepts d, w and y. Undefined when the text is not a duration.
 */
export function parseGoDuration(text: string, promUnits = false): number | undefined {
  let s = text.trim();
  if (s === '') return undefined;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  const re = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/;
  let total = 0;
  while (s.length > 0) {
    const m = re.exec(s);
    if (!m) return undefined;
    const unit = m[2]!;
    const mul = GO_UNITS_SECONDS[unit] ?? (promUnits ? PROM_EXTRA_UNITS[unit] : undefined);
    if (mul === undefined) return undefined;
    total += Number(m[1]) * mul;
    s = s.slice(m[0].length);
  }
  return sign * total;
}

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1e12,
  tb: 1e12,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  p: 1e15,
  pb: 1e15,
  pi: 1024 ** 5,
  pib: 1024 ** 5,
  e: 1e18,
  eb: 1e18,
  ei: 1024 ** 6,
  eib: 1024 ** 6,
};

/** Parses "42", "1.5KB", "10 MiB", "3kb" into bytes; undefined when it is not a byte size. */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*([0-9][0-9,]*(?:\.[0-9]*)?|\.[0-9]+)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return undefined;
  const mul = BYTE_UNITS[m[2]!.toLowerCase()];
  if (mul === undefined) return undefined;
  return Math.floor(Number(m[1]!.replace(/,/g, '')) * mul);
}

/** Go's strconv.ParseFloat, as unwrap and numeric label filters use it. */
export function parseGoFloat(text: string): number | undefined {
  const s = text.trim();
  if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return Number(s);
  const lower = s.toLowerCase();
  if (lower === 'inf' || lower === '+inf' || lower === 'infinity' || lower === '+infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (lower === 'nan') return NaN;
  return undefined;
}

/** Formats milliseconds as a compact duration for query text (`5m`, `1h30m`, `250ms`). */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
