/**
 * Sorted postings lists (series ids ascending) and the resolution of label matchers against an
 * inverted index, shared by the head and the blocks.
 *
 * Empty-value semantics as Prometheus: a series without label `l` has l="" for matching, so a
 * matcher that accepts "" (`l=""`, `l!="x"`, `l=~"|a"`, `l!~"a"`) selects series lacking `l`.
 * Such matchers are applied by subtracting the series whose value they reject; the others by
 * intersecting the series whose value they accept.
 */
import { compileMatcher, type Matcher } from '../model/matchers.ts';

export type Postings = ArrayLike<number>;

export const EMPTY_POSTINGS: Postings = new Int32Array(0);

export interface IndexReader {
  /** Every value label `name` has in this index (any order). */
  labelValues(name: string): Iterable<string>;
  /** Series carrying name=value, ascending; undefined or empty when none. */
  postings(name: string, value: string): Postings | undefined;
  /** Every series, ascending. */
  allPostings(): Postings;
}

export function intersect(a: Postings, b: Postings): Postings {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

export function subtract(a: Postings, b: Postings): Postings {
  if (b.length === 0) return a;
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}

export function union(lists: Postings[]): Postings {
  if (lists.length === 0) return EMPTY_POSTINGS;
  if (lists.length === 1) return lists[0]!;
  let total = 0;
  for (const l of lists) total += l.length;
  const all = new Float64Array(total);
  let k = 0;
  for (const l of lists) for (let i = 0; i < l.length; i++) all[k++] = l[i]!;
  all.sort();
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) out.push(all[i]!);
  return out;
}

/** Series ids (ascending) of the index matching every matcher. */
export function postingsForMatchers(ix: IndexReader, matchers: readonly Matcher[]): Postings {
  const keep: Postings[] = [];
  const drop: Postings[] = [];
  for (const m of matchers) {
    if (m.type === '=' && m.value !== '') {
      keep.push(ix.postings(m.name, m.value) ?? EMPTY_POSTINGS);
      continue;
    }
    if (m.type === '!=' && m.value !== '') {
      drop.push(ix.postings(m.name, m.value) ?? EMPTY_POSTINGS);
      continue;
    }
    const test = compileMatcher(m);
    const matchesEmpty = test('');
    const lists: Postings[] = [];
    for (const value of ix.labelValues(m.name)) {
      // accepted values when the label is required, rejected values when "" is accepted
      if (test(value) !== matchesEmpty) {
        const p = ix.postings(m.name, value);
        if (p && p.length > 0) lists.push(p);
      }
    }
    (matchesEmpty ? drop : keep).push(union(lists));
  }
  let result: Postings;
  if (keep.length === 0) result = ix.allPostings();
  else {
    keep.sort((a, b) => a.length - b.length);
    result = keep[0]!;
    for (let i = 1; i < keep.length && result.length > 0; i++) result = intersect(result, keep[i]!);
  }
  for (const d of drop) {
    if (result.length === 0) break;
    result = subtract(result, d);
  }
  return result;
}
