import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import protobuf from 'protobufjs';
import snappy from 'snappy';
import type { PushPrincipal, ReadPrincipal } from '../../../src/auth/principal.ts';
import { CredentialError, type RequestAuthenticator } from '../../../src/auth/request-auth.ts';
import type { EnforcementPolicy } from '../../../src/edge/enforce-labels.ts';
import { FileMetadataStore } from '../../../src/edge/metadata-store.ts';
import type { RejectionReport } from '../../../src/edge/rejections.ts';
import { remoteWriteRoutes, type RemoteWriteDeps } from '../../../src/edge/remote-write-routes.ts';
import { labelsKey, type Labels } from '../../../src/model/labels.ts';
import { BUILTIN_DEFAULT_LIMITS, effectiveLimits, type TenantLimits } from '../../../src/tenancy/limits.ts';
import type {
  AppendRequest,
  AppendResult,
  HeadStats,
  Querier,
  SampleRejection,
  TenantTsdb,
} from '../../../src/tsdb/types.ts';

/** The remote-write schema, written independently of the decoder under test (prometheus/prompb field numbers). */
const PROTO = `
syntax = "proto3";
package prometheus;
message WriteRequest { repeated TimeSeries timeseries = 1; repeated MetricMetadata metadata = 3; }
message MetricMetadata { int32 type = 1; string metric_family_name = 2; string help = 4; string unit = 5; }
message TimeSeries {
  repeated Label labels = 1; repeated Sample samples = 2;
  repeated Exemplar exemplars = 3; repeated Histogram histograms = 4;
}
message Label { string name = 1; string value = 2; }
message Sample { double value = 1; int64 timestamp = 2; }
message Exemplar { repeated Label labels = 1; double value = 2; int64 timestamp = 3; }
message Histogram { uint64 count_int = 1; double sum = 3; sint32 schema = 4; int64 timestamp = 15; }
`;

const root = protobuf.parse(PROTO).root;
export const WriteRequestType = root.lookupType('prometheus.WriteRequest');

export interface TestSeries {
  labels: Record<string, string> | [string, string][];
  samples?: { t: number; v: number }[];
  histograms?: number;
  exemplars?: number;
}

export interface TestMetadata {
  type: number;
  metricFamilyName: string;
  help: string;
  unit?: string;
}

/** Encodes a WriteRequest with protobufjs (labels in the order given: tests send unsorted ones on purpose). */
export function encodeRequest(series: TestSeries[], metadata: TestMetadata[] = []): Uint8Array {
  const message = WriteRequestType.fromObject({
    timeseries: series.map((s) => ({
      labels: (Array.isArray(s.labels) ? s.labels : Object.entries(s.labels)).map(([name, value]) => ({
        name,
        value,
      })),
      samples: (s.samples ?? []).map((x) => ({ value: x.v, timestamp: x.t })),
      exemplars: Array.from({ length: s.exemplars ?? 0 }, (_, i) => ({
        labels: [{ name: 'trace_id', value: `t${i}` }],
        value: 1,
        timestamp: 1,
      })),
      histograms: Array.from({ length: s.histograms ?? 0 }, () => ({
        countInt: 3,
        sum: 1.5,
        schema: 0,
        timestamp: 1,
      })),
    })),
    metadata: metadata.map((m) => ({ ...m })),
  });
  return WriteRequestType.encode(message).finish();
}

export function snappyBody(message: Uint8Array): Buffer {
  return snappy.compressSync(Buffer.from(message));
}

export function body(series: TestSeries[], metadata: TestMetadata[] = []): Buffer {
  return snappyBody(encodeRequest(series, metadata));
}

const bitsView = new DataView(new ArrayBuffer(8));

/**
 * Float64 bit pattern as hex, NaN payloads included. Through a DataView: putting the value in a JS
 * array first (`new Float64Array([v])`) would quiet a signalling NaN such as the stale marker.
 */
export function bits(v: number): string {
  bitsView.setFloat64(0, v);
  return bitsView.getBigUint64(0).toString(16);
}

export interface StoredSeries {
  labels: Labels;
  t: number[];
  /** Stored in a Float64Array, as a real TSDB does, so NaN payloads can be checked. */
  v: Float64Array;
}

/**
 * An in-memory TenantTsdb with Prometheus's in-order append rules: older samples are out of order,
 * a different value at the newest timestamp is a duplicate, an identical one is ignored.
 */
export class FakeTsdb implements TenantTsdb {
  readonly series = new Map<string, StoredSeries>();
  failWith: Error | undefined;
  appendCalls = 0;

  async append(request: AppendRequest): Promise<AppendResult> {
    this.appendCalls++;
    if (this.failWith) throw this.failWith;
    let samplesAppended = 0;
    let seriesCreated = 0;
    const rejected: { labels: Labels; t: number; reason: SampleRejection }[] = [];
    for (const s of request.series) {
      const key = labelsKey(s.labels);
      let stored = this.series.get(key);
      if (stored === undefined) {
        if (request.admitNewSeries && !request.admitNewSeries(s.labels)) {
          for (const x of s.samples) rejected.push({ labels: s.labels, t: x.t, reason: 'series_limit' });
          continue;
        }
        stored = { labels: s.labels, t: [], v: new Float64Array(0) };
        this.series.set(key, stored);
        seriesCreated++;
      }
      for (const x of s.samples) {
        const last = stored.t.length - 1;
        if (last >= 0 && x.t < stored.t[last]!) {
          rejected.push({ labels: s.labels, t: x.t, reason: 'out_of_order' });
          continue;
        }
        if (last >= 0 && x.t === stored.t[last]!) {
          if (bits(x.v) !== bits(stored.v[last]!))
            rejected.push({ labels: s.labels, t: x.t, reason: 'duplicate_sample' });
          continue;
        }
        stored.t.push(x.t);
        const v = new Float64Array(stored.v.length + 1);
        v.set(stored.v);
        v[stored.v.length] = x.v;
        stored.v = v;
        samplesAppended++;
      }
    }
    return { samplesAppended, seriesCreated, rejected };
  }

  querier(): Querier {
    throw new Error('FakeTsdb has no querier');
  }

  headStats(): HeadStats {
    return { series: this.series.size, minTime: 0, maxTime: 0 };
  }

  activeSeriesWith(label: string, value: string): number {
    let n = 0;
    for (const s of this.series.values())
      if (s.labels.some((l) => l.name === label && l.value === value)) n++;
    return n;
  }

  async close(): Promise<void> {}

  /** Stored series as `name{...}` text → sample count, for compact assertions. */
  find(match: Record<string, string>): StoredSeries[] {
    return [...this.series.values()].filter((s) =>
      Object.entries(match).every(([k, v]) => s.labels.some((l) => l.name === k && l.value === v)),
    );
  }
}

export function principal(
  overrides: Partial<Omit<PushPrincipal, 'limits'>> & { limits?: Partial<TenantLimits> } = {},
): PushPrincipal {
  const { limits, ...rest } = overrides;
  return {
    kind: 'push',
    tenantId: 1,
    tenantSlug: 'acme',
    tokenId: 'tok-1',
    ...rest,
    limits: effectiveLimits(BUILTIN_DEFAULT_LIMITS, limits),
  };
}

/** Bearer token → principal; anything else 401; `failure` makes every call throw it. */
export class FakeAuthenticator implements RequestAuthenticator {
  failure: unknown;
  constructor(readonly tokens: Map<string, PushPrincipal>) {}

  async authenticatePush(request: FastifyRequest): Promise<PushPrincipal> {
    if (this.failure !== undefined) throw this.failure;
    const header = request.headers.authorization ?? '';
    const p = this.tokens.get(header.replace(/^Bearer /, ''));
    if (!p) throw new CredentialError(401, 'invalid or missing push token');
    return p;
  }

  async authenticateRead(): Promise<ReadPrincipal> {
    throw new CredentialError(403, 'push token cannot read');
  }
}

export interface TestEdge {
  app: FastifyInstance;
  tsdbs: Map<number, FakeTsdb>;
  tsdb: FakeTsdb;
  registry: Registry;
  reports: RejectionReport[];
  metadata: FileMetadataStore;
  auth: FakeAuthenticator;
  clock: { now: number };
  close(): Promise<void>;
}

export const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

/**
 * A Fastify app with only the remote-write routes, fake auth and TSDB. Tokens: `t-acme` (tenant-wide,
 * tenant 1 "acme"), `t-web1` (acme's server 7 "web-1"), `t-globex` (tenant 2 "globex"), plus `extra`.
 */
export async function startEdge(
  options: {
    enforcement?: EnforcementPolicy;
    limits?: Partial<TenantLimits>;
    extra?: Record<string, PushPrincipal>;
    deps?: Partial<RemoteWriteDeps>;
  } = {},
): Promise<TestEdge> {
  const limits = options.limits ?? {};
  const tokens = new Map<string, PushPrincipal>([
    ['t-acme', principal({ limits })],
    ['t-web1', principal({ serverId: 7, instance: 'web-1', tokenId: 'tok-2', limits })],
    ['t-globex', principal({ tenantId: 2, tenantSlug: 'globex', tokenId: 'tok-3', limits })],
    ...Object.entries(options.extra ?? {}),
  ]);
  const tsdbs = new Map<number, FakeTsdb>();
  const tsdbFor = async (id: number): Promise<FakeTsdb> => {
    let t = tsdbs.get(id);
    if (!t) {
      t = new FakeTsdb();
      tsdbs.set(id, t);
    }
    return t;
  };
  const dir = mkdtempSync(join(tmpdir(), 'irin-edge-'));
  const metadata = new FileMetadataStore({ dataDir: dir, flushIntervalMs: 0 });
  const registry = new Registry();
  const reports: RejectionReport[] = [];
  const auth = new FakeAuthenticator(tokens);
  const clock = { now: NOW };
  const app = Fastify({ logger: false });
  await app.register(remoteWriteRoutes, {
    authenticator: auth,
    tsdbFor,
    enforcement: options.enforcement ?? { tenantLabel: 'tenant', onConflict: 'overwrite' },
    registry,
    metadata,
    onRejection: (r) => reports.push(r),
    now: () => clock.now,
    ...options.deps,
  });
  await app.ready();
  const tsdb = await tsdbFor(1);
  return {
    app,
    tsdbs,
    tsdb,
    registry,
    reports,
    metadata,
    auth,
    clock,
    async close() {
      await app.close();
      await metadata.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface PushOptions {
  token?: string | undefined;
  headers?: Record<string, string | undefined>;
  url?: string;
}

export async function push(edge: TestEdge, payload: Buffer | string, options: PushOptions = {}) {
  const headers: Record<string, string> = {
    'content-type': 'application/x-protobuf',
    'content-encoding': 'snappy',
    'x-prometheus-remote-write-version': '0.1.0',
  };
  const token = 'token' in options ? options.token : 't-acme';
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return edge.app.inject({ method: 'POST', url: options.url ?? '/api/v1/write', headers, payload });
}

export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await registry.getSingleMetric(name)?.get();
  const hit = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? 0;
}
