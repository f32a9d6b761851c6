/** Building LogQL for people who don't write it: a stream selector from chosen labels plus a text filter. */

export function logqlString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function buildSelector(matchers: Record<string, string>, fallbackLabel: string | undefined): string {
  const parts = Object.entries(matchers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${logqlString(v)}`);
  if (parts.length === 0 && fallbackLabel) parts.push(`${fallbackLabel}=~".+"`);
  return `{${parts.join(', ')}}`;
}

/** `{…} |= "text"`, or a case-insensitive regex filter. */
export function buildQuery(selector: string, filter: string, caseInsensitive: boolean): string {
  const f = filter.trim();
  if (!f) return selector;
  if (!caseInsensitive) return `${selector} |= ${logqlString(f)}`;
  const escaped = f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return `${selector} |~ ${logqlString(`(?i)${escaped}`)}`;
}

/** A label to select every stream by when nothing is chosen (LogQL needs one non-empty matcher). */
export function fallbackLabel(labels: string[]): string | undefined {
  for (const l of ['job', 'service_name', 'instance', 'filename', 'host']) if (labels.includes(l)) return l;
  return labels.find((l) => l !== '__name__');
}
