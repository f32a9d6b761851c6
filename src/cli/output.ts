/** Human-readable output of the CLI. Every command also has `--json`, which prints its result as is. */

export function fmtTime(iso: string | null | undefined): string {
  return iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '-';
}

export function table<T extends object>(
  rows: readonly T[],
  columns: readonly (readonly [key: keyof T & string, header: string])[],
): string {
  if (rows.length === 0) return '(none)';
  const cells = rows.map((r) => columns.map(([k]) => cell(r[k])));
  const widths = columns.map(([, h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([, h]) => h.toUpperCase())), ...cells.map(line)].join('\n');
}

export function details(pairs: readonly (readonly [label: string, value: unknown])[]): string {
  const width = Math.max(...pairs.map(([l]) => l.length));
  return pairs.map(([l, v]) => `${`${l}:`.padEnd(width + 1)} ${cell(v)}`).join('\n');
}

function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map(cell).join(', ') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  return /^\d{4}-\d{2}-\d{2}T/.test(s) ? fmtTime(s) : s;
}

/** The block printed when a secret is issued: the only time it is ever shown. */
export function secretBlock(title: string, c: { clientId: string; secret: string; token: string }): string {
  return [
    `${title} (shown once — store it now, it cannot be retrieved later):`,
    `  client id: ${c.clientId}`,
    `  secret:    ${c.secret}`,
    `  bearer:    ${c.token}`,
    'Send it as CF-Access-Client-Id/CF-Access-Client-Secret headers, as basic auth (client id / secret),',
    'or as "Authorization: Bearer <bearer>".',
  ].join('\n');
}
