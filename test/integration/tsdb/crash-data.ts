import type { Label } from '../../../src/model/labels.ts';

export const SERIES: Label[][] = Array.from({ length: 40 }, (_, k) => [
  { name: '__name__', value: 'crash_metric' },
  { name: 'k', value: String(k) },
  { name: 'tenant', value: 'crash' },
]);

export function sampleValue(batch: number, k: number): number {
  return batch * 10 + k / 4;
}
