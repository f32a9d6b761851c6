import protobuf from 'protobufjs';
import snappy from 'snappy';
import type { Labels } from '../model/labels.ts';

/**
 * A small Prometheus remote-write 1.0 client: used by `irin verify-isolation`, the demo mode, the
 * benchmarks and the tests to push to Irin exactly as an agent does.
 */
export interface WriteSeries {
  readonly labels: Labels;
  readonly samples: readonly { t: number; v: number }[];
}

export interface WriteMetadata {
  readonly metricFamilyName: string;
  readonly type:
    'counter' | 'gauge' | 'histogram' | 'gaugehistogram' | 'summary' | 'info' | 'stateset' | 'unknown';
  readonly help: string;
  readonly unit?: string;
}

const METADATA_TYPES: Record<WriteMetadata['type'], number> = {
  unknown: 0,
  counter: 1,
  gauge: 2,
  histogram: 3,
  gaugehistogram: 4,
  summary: 5,
  info: 6,
  stateset: 7,
};

/** Encodes a `prometheus.WriteRequest` protobuf message (uncompressed). */
export function encodeWriteRequest(
  series: readonly WriteSeries[],
  metadata: readonly WriteMetadata[] = [],
): Uint8Array {
  const w = protobuf.Writer.create();
  for (const s of series) {
    w.uint32((1 << 3) | 2).fork();
    for (const l of s.labels) {
      w.uint32((1 << 3) | 2).fork();
      w.uint32((1 << 3) | 2).string(l.name);
      w.uint32((2 << 3) | 2).string(l.value);
      w.ldelim();
    }
    for (const sample of s.samples) {
      w.uint32((2 << 3) | 2).fork();
      w.uint32((1 << 3) | 1).double(sample.v);
      w.uint32((2 << 3) | 0).int64(sample.t);
      w.ldelim();
    }
    w.ldelim();
  }
  for (const m of metadata) {
    w.uint32((3 << 3) | 2).fork();
    w.uint32((1 << 3) | 0).int32(METADATA_TYPES[m.type]);
    w.uint32((2 << 3) | 2).string(m.metricFamilyName);
    w.uint32((4 << 3) | 2).string(m.help);
    if (m.unit) w.uint32((5 << 3) | 2).string(m.unit);
    w.ldelim();
  }
  return w.finish();
}

/** Snappy block compression, as remote write requires. */
export function compressWriteRequest(message: Uint8Array): Buffer {
  return snappy.compressSync(Buffer.from(message.buffer, message.byteOffset, message.byteLength));
}

export type PushCredentials =
  | { kind: 'basic'; username: string; password: string }
  | { kind: 'bearer'; token: string }
  | { kind: 'cf-access'; clientId: string; clientSecret: string }
  | { kind: 'none' };

export function credentialHeaders(credentials: PushCredentials): Record<string, string> {
  switch (credentials.kind) {
    case 'basic':
      return {
        authorization:
          'Basic ' + Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
      };
    case 'bearer':
      return { authorization: `Bearer ${credentials.token}` };
    case 'cf-access':
      return {
        'cf-access-client-id': credentials.clientId,
        'cf-access-client-secret': credentials.clientSecret,
      };
    case 'none':
      return {};
  }
}

export interface PushResult {
  readonly status: number;
  readonly body: string;
  readonly retryAfter: string | null;
}

/** POSTs an already compressed WriteRequest body. */
export async function pushCompressed(
  url: string,
  body: Uint8Array,
  credentials: PushCredentials,
): Promise<PushResult> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': 'irin-client/1',
      ...credentialHeaders(credentials),
    },
    body,
  });
  return {
    status: response.status,
    body: await response.text(),
    retryAfter: response.headers.get('retry-after'),
  };
}

export async function pushSeries(
  url: string,
  series: readonly WriteSeries[],
  credentials: PushCredentials,
  metadata: readonly WriteMetadata[] = [],
): Promise<PushResult> {
  return pushCompressed(url, compressWriteRequest(encodeWriteRequest(series, metadata)), credentials);
}
