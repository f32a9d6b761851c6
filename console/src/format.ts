/** Number and time formatting for the console. */

export function pct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  return `${v.toFixed(digits)}%`;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function bytes(v: number): string {
  if (!Number.isFinite(v)) return '–';
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1024 && i < BYTE_UNITS.length - 1) {
    x /= 1024;
    i++;
  }
  return `${v < 0 ? '-' : ''}${x.toFixed(x >= 100 || i === 0 ? 0 : 1)} ${BYTE_UNITS[i]}`;
}

const BIT_UNITS = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
export function bitsPerSecond(v: number): string {
  if (!Number.isFinite(v)) return '–';
  let i = 0;
  let x = Math.abs(v);
  while (x >= 1000 && i < BIT_UNITS.length - 1) {
    x /= 1000;
    i++;
  }
  return `${x.toFixed(x >= 100 || i === 0 ? 0 : 1)} ${BIT_UNITS[i]}`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function ms(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '–';
  const v = seconds * 1000;
  return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v >= 100 ? 0 : 1)} ms`;
}

export function num(v: number, digits = 2): string {
  if (!Number.isFinite(v)) return '–';
  return v.toFixed(digits);
}

/** "5 s ago", "3 min ago", "2 h ago", "4 d ago"; "never" for null. */
export function ago(at: string | number | null, now = Date.now()): string {
  if (at === null) return 'never';
  const t = typeof at === 'number' ? at : Date.parse(at);
  const s = Math.max(0, (now - t) / 1000);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function dateTime(at: string | number | null): string {
  if (at === null) return '–';
  const d = new Date(at);
  return d.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

export function date(at: string | number | null): string {
  if (at === null) return '–';
  return new Date(at).toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
}
