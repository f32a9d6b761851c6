import type { Labels } from '../../model/labels.ts';
import type { LogStreamResult, MetricResult, QueryStats } from '../logql/engine.ts';
import { formatNs } from '../time.ts';

/** Loki's JSON response shapes (resultType streams / matrix / vector / scalar, with stats). */

/** A float the way Go's strconv.FormatFloat(v, 'f', -1, 64) prints it (no exponent). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const mantissa = s.slice(0, e);
  const exp = Number(s.slice(e + 1));
  const neg = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const point =
    (mantissa.replace('-', '').indexOf('.') < 0
      ? mantissa.replace('-', '').length
      : mantissa.replace('-', '').indexOf('.')) + exp;
  let out: string;
  if (point <= 0) out = '0.' + '0'.repeat(-point) + digits;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = digits.slice(0, point) + '.' + digits.slice(point);
  return (neg ? '-' : '') + out;
}

export function labelsObject(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of labels) out[l.name] = l.value;
  return out;
}

export function statsObject(s: QueryStats): Record<string, unknown> {
  const exec = s.execTimeSeconds;
  const perSecond = (n: number): number => (exec > 0 ? Math.round(n / exec) : n);
  const store = {
    totalChunksRef: s.chunksRead,
    totalChunksDownloaded: s.chunksRead,
    chunksDownloadTime: 0,
    queryReferencedStructuredMetadata: false,
    chunk: {
      headChunkBytes: s.headChunkBytes,
      headChunkLines: s.headChunkLines,
      decompressedBytes: s.bytesProcessed - s.headChunkBytes,
      decompressedLines: s.linesProcessed - s.headChunkLines,
      compressedBytes: s.compressedBytes,
      totalDuplicates: 0,
      postFilterLines: s.entriesReturned,
      headChunkStructuredMetadataBytes: 0,
      decompressedStructuredMetadataBytes: 0,
    },
  };
  return {
    summary: {
      bytesProcessedPerSecond: perSecond(s.bytesProcessed),
      linesProcessedPerSecond: perSecond(s.linesProcessed),
      totalBytesProcessed: s.bytesProcessed,
      totalLinesProcessed: s.linesProcessed,
      execTime: exec,
      queueTime: 0,
      subqueries: 0,
      totalEntriesReturned: s.entriesReturned,
      splits: 0,
      shards: 0,
      totalPostFilterLines: s.entriesReturned,
      totalChunksRef: s.chunksRead,
      totalChunksDownloaded: s.chunksRead,
      chunkRefsFetchTime: 0,
      totalStructuredMetadataBytesProcessed: 0,
    },
    querier: { store },
    ingester: {
      totalReached: 0,
      totalChunksMatched: 0,
      totalBatches: 0,
      totalLinesSent: 0,
      store: { ...store, totalChunksRef: 0, totalChunksDownloaded: 0 },
    },
    cache: {},
  };
}

export function streamsData(streams: readonly LogStreamResult[]): unknown[] {
  return streams.map((s) => ({
    stream: labelsObject(s.labels),
    values: s.entries.map((e) => [formatNs(e.ms, e.ns), e.line]),
  }));
}

export function queryBody(
  result: { type: 'streams'; streams: readonly LogStreamResult[] } | MetricResult,
  stats: QueryStats,
): string {
  let data: Record<string, unknown>;
  switch (result.type) {
    case 'streams':
      data = { resultType: 'streams', result: streamsData(result.streams) };
      break;
    case 'matrix':
      data = {
        resultType: 'matrix',
        result: result.series.map((s) => ({
          metric: labelsObject(s.labels),
          values: s.points.map(([t, v]) => [t / 1000, formatValue(v)]),
        })),
      };
      break;
    case 'vector':
      data = {
        resultType: 'vector',
        result: result.samples.map((s) => ({
          metric: labelsObject(s.labels),
          value: [s.ms / 1000, formatValue(s.value)],
        })),
      };
      break;
    case 'scalar':
      data = { resultType: 'scalar', result: [result.ms / 1000, formatValue(result.value)] };
      break;
  }
  data['stats'] = statsObject(stats);
  return JSON.stringify({ status: 'success', data });
}
