/** One label pair. A series' label set is an array of these sorted by name with unique names. */
export interface Label {
  readonly name: string;
  readonly value: string;
}

export type Labels = readonly Label[];

export const METRIC_NAME_LABEL = '__name__';

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function isValidMetricName(name: string): boolean {
  return METRIC_NAME_RE.test(name);
}

export function isValidLabelName(name: string): boolean {
  return LABEL_NAME_RE.test(name);
}

export function compareLabels(a: Label, b: Label): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Orders sorted label sets as Prometheus's labels.Compare: pairwise by name, then value; a prefix sorts first. */
export function compareLabelSets(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name) return x.name < y.name ? -1 : 1;
    if (x.value !== y.value) return x.value < y.value ? -1 : 1;
  }
  return a.length - b.length;
}

/** Returns a new label set sorted by name. */
export function sortLabels(labels: Labels): Label[] {
  return [...labels].sort(compareLabels);
}

/** A stable string identity for a sorted label set (used as a map key). */
export function labelsKey(labels: Labels): string {
  let key = '';
  for (const l of labels) key += l.name + '\xff' + l.value + '\xfe';
  return key;
}

export function getLabel(labels: Labels, name: string): string | undefined {
  for (const l of labels) if (l.name === name) return l.value;
  return undefined;
}

/** Replaces (or adds) a label, keeping the set sorted. An empty value removes the label. */
export function withLabel(labels: Labels, name: string, value: string): Label[] {
  const out = labels.filter((l) => l.name !== name);
  if (value !== '') out.push({ name, value });
  return out.sort(compareLabels);
}

export function labelsToRecord(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function labelsFromRecord(record: Record<string, string>): Label[] {
  return Object.entries(record)
    .map(([name, value]) => ({ name, value }))
    .sort(compareLabels);
}

/** Prometheus text form: `name{a="b", c="d"}` (the metric name outside the braces). */
export function formatLabels(labels: Labels): string {
  let name = '';
  const parts: string[] = [];
  for (const l of labels) {
    if (l.name === METRIC_NAME_LABEL) name = l.value;
    else parts.push(`${l.name}=${JSON.stringify(l.value)}`);
  }
  return `${name}{${parts.join(', ')}}`;
}
