const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

const DURATION_RE = /^((\d+)(ms|s|m|h|d|w|y))+$/;
const PART_RE = /(\d+)(ms|s|m|h|d|w|y)/g;

/** Parses a Prometheus-style duration (`90s`, `1h30m`, `15d`) into milliseconds; throws on bad input. */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (!DURATION_RE.test(trimmed)) {
    throw new Error(`"${text}" is not a duration: use a number with a unit such as 500ms, 30s, 5m, 2h, 15d`);
  }
  let total = 0;
  for (const [, count, unit] of trimmed.matchAll(PART_RE)) total += Number(count) * UNIT_MS[unit as string]!;
  return total;
}

/** Formats milliseconds as the shortest exact Prometheus-style duration. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
