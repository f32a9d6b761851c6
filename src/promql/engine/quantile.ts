/** Quantile estimation as Prometheus 2.x computes it (φ-quantile with linear interpolation; classic buckets). */

/** Ascending sort with NaN first (Prometheus's vectorByValueHeap order). */
function sortNaNFirst(values: number[]): number[] {
  return values.sort((a, b) => {
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an === bn ? 0 : an ? -1 : 1;
    return a - b;
  });
}

/** The q-quantile of the values (sorted in place); NaN for no values, ±Inf for q outside [0, 1]. */
export function quantile(q: number, values: number[]): number {
  if (values.length === 0 || Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  sortNaNFirst(values);
  const n = values.length;
  const rank = q * (n - 1);
  const lowerIndex = Math.max(0, Math.floor(rank));
  const upperIndex = Math.min(n - 1, lowerIndex + 1);
  const weight = rank - Math.floor(rank);
  return values[lowerIndex]! * (1 - weight) + values[upperIndex]! * weight;
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/**
 * histogram_quantile over classic cumulative `le` buckets: needs a +Inf bucket; buckets with the
 * same bound are added up, counts are made monotonic, and the quantile is interpolated linearly
 * inside its bucket (the lowest bucket starts at 0 unless its bound is negative).
 */
export function bucketQuantile(q: number, input: Bucket[]): number {
  if (Number.isNaN(q)) return NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Infinity) return NaN;
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const last = buckets[buckets.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else buckets.push({ upperBound: b.upperBound, count: b.count });
  }
  let max = buckets[0]!.count;
  for (let i = 1; i < buckets.length; i++) {
    const b = buckets[i]!;
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }
  if (buckets.length < 2) return NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return NaN;
  let rank = q * observations;
  // First bucket (excluding +Inf) whose cumulative count reaches the rank.
  let b = 0;
  while (b < buckets.length - 1 && !(buckets[b]!.count >= rank)) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
