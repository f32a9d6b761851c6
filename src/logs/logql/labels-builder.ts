import type { Label, Labels } from '../../model/labels.ts';

export const ERROR_LABEL = '__error__';
export const ERROR_DETAILS_LABEL = '__error_details__';

/**
 * One stream's labels as a pipeline sees them, prepared once per stream and shared by its entries.
 */
export class BaseLabels {
  readonly map: Map<string, string>;
  readonly sorted: Labels;
  readonly key: string;

  constructor(labels: Labels) {
    this.sorted = labels;
    this.map = new Map(labels.map((l) => [l.name, l.value]));
    this.key = labelsKeyOf(labels);
  }
}

export function labelsKeyOf(labels: Labels): string {
  let k = '';
  for (const l of labels) k += l.name + '\xff' + l.value + '\xfe';
  return k;
}

/**
 * The mutable label set of one entry going through a pipeline: the stream's labels plus what
 * parsers and formatters add, minus what they drop. Reset per entry without copying the base.
 */
export class LabelsBuilder {
  base!: BaseLabels;
  private readonly added = new Map<string, string>();
  private readonly deleted = new Set<string>();
  error = '';
  errorDetails = '';
  /** When set, parsers keep only these labels (the query needs no others; see labelHints). */
  only: ReadonlySet<string> | undefined;

  reset(base: BaseLabels): void {
    this.base = base;
    if (this.added.size > 0) this.added.clear();
    if (this.deleted.size > 0) this.deleted.clear();
    this.error = '';
    this.errorDetails = '';
  }

  /** True when nothing differs from the stream's labels. */
  get pristine(): boolean {
    return this.added.size === 0 && this.deleted.size === 0 && this.error === '';
  }

  /** Whether the stream itself has this label (parsers add `_extracted` to avoid clashing). */
  baseHas(name: string): boolean {
    return this.base.map.has(name);
  }

  get(name: string): string | undefined {
    if (name === ERROR_LABEL) return this.error === '' ? undefined : this.error;
    if (name === ERROR_DETAILS_LABEL) return this.errorDetails === '' ? undefined : this.errorDetails;
    const v = this.added.get(name);
    if (v !== undefined) return v;
    if (this.deleted.has(name)) return undefined;
    return this.base.map.get(name);
  }

  set(name: string, value: string): void {
    if (name === ERROR_LABEL) {
      this.error = value;
      return;
    }
    if (name === ERROR_DETAILS_LABEL) {
      this.errorDetails = value;
      return;
    }
    this.added.set(name, value);
  }

  /** A label a parser extracted: dropped when the query is known not to need it. */
  setParsed(name: string, value: string): void {
    if (this.only && !this.only.has(name)) return;
    this.set(name, value);
  }

  delete(name: string): void {
    if (name === ERROR_LABEL) {
      this.error = '';
      return;
    }
    if (name === ERROR_DETAILS_LABEL) {
      this.errorDetails = '';
      return;
    }
    this.added.delete(name);
    if (this.base.map.has(name)) this.deleted.add(name);
  }

  setError(kind: string, details: string): void {
    if (this.error !== '') return; // the first error wins, as in Loki
    this.error = kind;
    this.errorDetails = details;
  }

  /** Every present label name. */
  names(): string[] {
    const out = new Set<string>();
    for (const l of this.base.sorted) if (!this.deleted.has(l.name)) out.add(l.name);
    for (const n of this.added.keys()) out.add(n);
    if (this.error !== '') out.add(ERROR_LABEL);
    if (this.errorDetails !== '') out.add(ERROR_DETAILS_LABEL);
    return [...out];
  }

  /** The final label set, sorted, empty values omitted. */
  labels(): Labels {
    if (this.pristine) return this.base.sorted;
    const out: Label[] = [];
    for (const l of this.base.sorted) {
      if (this.deleted.has(l.name) || this.added.has(l.name)) continue;
      out.push(l);
    }
    for (const [name, value] of this.added) if (value !== '') out.push({ name, value });
    if (this.error !== '') out.push({ name: ERROR_LABEL, value: this.error });
    if (this.errorDetails !== '') out.push({ name: ERROR_DETAILS_LABEL, value: this.errorDetails });
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  key(): string {
    return this.pristine ? this.base.key : labelsKeyOf(this.labels());
  }
}
