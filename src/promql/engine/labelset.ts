import {
  METRIC_NAME_LABEL,
  compareLabelSets,
  labelsKey,
  type Label,
  type Labels,
} from '../../model/labels.ts';
import { goQuote } from '../literals.ts';

/** Label-set operations of the evaluator (sets are sorted by name, as everywhere in Irin). */

export function dropMetricName(labels: Labels): Labels {
  if (!labels.some((l) => l.name === METRIC_NAME_LABEL)) return labels;
  return labels.filter((l) => l.name !== METRIC_NAME_LABEL);
}

/** Keeps only the named labels. */
export function keepLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => names.has(l.name));
}

/** Removes the named labels. */
export function removeLabels(labels: Labels, names: ReadonlySet<string>): Labels {
  return labels.filter((l) => !names.has(l.name));
}

/** Sets (or with '' removes) one label, keeping the set sorted. */
export function setLabel(labels: Labels, name: string, value: string): Labels {
  const out: Label[] = [];
  let placed = value === '';
  for (const l of labels) {
    if (l.name === name) continue;
    if (!placed && l.name > name) {
      out.push({ name, value });
      placed = true;
    }
    out.push(l);
  }
  if (!placed) out.push({ name, value });
  return out;
}

export function labelValue(labels: Labels, name: string): string {
  for (const l of labels) if (l.name === name) return l.value;
  return '';
}

/** Prometheus's Labels.String(): `{__name__="up", job="x"}`. */
export function labelsString(labels: Labels): string {
  return '{' + labels.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ') + '}';
}

export { compareLabelSets, labelsKey };

/** A string identifying the values of the given labels (missing labels count as empty). */
export function signatureOn(labels: Labels, names: readonly string[]): string {
  let key = '';
  for (const n of names) key += labelValue(labels, n) + '\xff';
  return key;
}

/** A string identifying all labels except the given ones. */
export function signatureWithout(labels: Labels, names: ReadonlySet<string>): string {
  let key = '';
  for (const l of labels) if (!names.has(l.name)) key += l.name + '\xff' + l.value + '\xfe';
  return key;
}
