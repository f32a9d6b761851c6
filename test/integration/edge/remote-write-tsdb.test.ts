import Fastify, { type FastifyInstance } from 'fastify';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { pushCompressed, pushSeries, type PushCredentials } from '../../../src/client/remote-write.ts';
import { SimulatedNode } from '../../../src/client/simulated-node.ts';
import { FileMetadataStore } from '../../../src/edge/metadata-store.ts';
import { remoteWriteRoutes } from '../../../src/edge/remote-write-routes.ts';
import { getLabel } from '../../../src/model/labels.ts';
import type { Matcher } from '../../../src/model/matchers.ts';
import { isStaleNaN, staleNaN } from '../../../src/model/samples.ts';
import { TenantPartitions } from '../../../src/tsdb/partitions.ts';
import { bits, body, FakeAuthenticator, principal } from '../../unit/edge/helpers.ts';

/**
 * The edge in front of the real per-tenant TSDB, over real HTTP on 127.0.0.1, pushed to with the
 * project's remote-write client: what the agents see and what ends up stored.
 */
describe('remote write into the real TSDB over HTTP', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'irin-edge-int-'));
  let partitions: TenantPartitions;
  let metadata: FileMetadataStore;
  let app: FastifyInstance;
  let url: string;
  const limits = { serverMaxSeries: 700, maxRequestBytes: 64 * 1024 };
  const auth = new FakeAuthenticator(
    new Map([
      ['t-acme', principal({ limits })],
      ['t-web1', principal({ serverId: 1, instance: 'web-1', limits })],
      ['t-web2', principal({ serverId: 2, instance: 'web-2', limits })],
      ['t-globex', principal({ tenantId: 2, tenantSlug: 'globex', limits })],
    ]),
  );
  const bearer = (token: string): PushCredentials => ({ kind: 'bearer', token });

  async function start(): Promise<void> {
    partitions = new TenantPartitions({ dataDir, maintenanceIntervalMs: 0 });
    metadata = new FileMetadataStore({ dataDir, flushIntervalMs: 0 });
    app = Fastify({ logger: false });
    await app.register(remoteWriteRoutes, {
      authenticator: auth,
      tsdbFor: (tenantId) => partitions.get(String(tenantId)),
      enforcement: { tenantLabel: 'tenant', onConflict: 'overwrite' },
      registry: new Registry(),
      metadata,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v1/write`;
  }

  async function stop(): Promise<void> {
    await app.close();
    await metadata.close();
    await partitions.closeAll();
  }

  async function select(tenantId: number, matchers: Matcher[]) {
    const tsdb = await partitions.get(String(tenantId));
    return tsdb.querier().select(matchers, 0, Date.now() + 3_600_000);
  }

  before(start);
  after(async () => {
    await stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const t0 = Date.now() - 60_000;

  it('stores node_exporter-like series with the enforced tenant and instance', async () => {
    for (const [token, seed] of [
      ['t-web1', 1],
      ['t-web2', 2],
    ] as const) {
      // The agent claims another tenant and a made-up instance: both are overwritten.
      const node = new SimulatedNode({ instance: 'spoofed:9100', tenant: 'globex', seed });
      for (let round = 0; round < 3; round++) {
        const r = await pushSeries(url, node.scrape(t0 + round * 15_000), bearer(token));
        assert.equal(r.status, 204, r.body);
      }
    }
    const load = await select(1, [{ name: '__name__', type: '=', value: 'node_load1' }]);
    assert.deepEqual(
      load.map((s) => [getLabel(s.labels, 'tenant'), getLabel(s.labels, 'instance'), s.timestamps.length]),
      [
        ['acme', 'web-1', 3],
        ['acme', 'web-2', 3],
      ],
    );
    assert.deepEqual(await select(2, [{ name: '__name__', type: '=', value: 'node_load1' }]), []);
    const tsdb = await partitions.get('1');
    assert.equal(
      tsdb.activeSeriesWith('instance', 'web-1'),
      new SimulatedNode({ instance: 'x' }).series.length,
    );
  });

  it('keeps the staleness marker bit for bit', async () => {
    const r = await pushCompressed(
      url,
      body([
        {
          labels: { __name__: 'gone', job: 'x' },
          samples: [
            { t: t0, v: 3 },
            { t: t0 + 15_000, v: staleNaN() },
          ],
        },
      ]),
      bearer('t-acme'),
    );
    assert.equal(r.status, 204, r.body);
    const [s] = await select(1, [{ name: '__name__', type: '=', value: 'gone' }]);
    assert.ok(s);
    assert.ok(isStaleNaN(s.values[1]!), `stored bits ${bits(s.values[1]!)}`);
  });

  it('refuses series over the per-server limit and out-of-order samples with 400, keeps the rest', async () => {
    const node = new SimulatedNode({ instance: 'web-1', seed: 1 });
    const extra = Array.from({ length: 200 }, (_, i) => ({
      labels: [
        { name: '__name__', value: 'extra_series' },
        { name: 'i', value: String(i) },
      ],
      samples: [{ t: t0 + 45_000, v: i }],
    }));
    const r = await pushSeries(url, [...node.scrape(t0 + 45_000), ...extra], bearer('t-web1'));
    assert.equal(r.status, 400);
    assert.match(r.body, /server "web-1"/);
    assert.match(r.body, /serverMaxSeries=700/);
    const tsdb = await partitions.get('1');
    assert.equal(tsdb.activeSeriesWith('instance', 'web-1'), 700);

    const ooo = await pushCompressed(
      url,
      body([{ labels: { __name__: 'gone', job: 'x' }, samples: [{ t: t0 - 1000, v: 1 }] }]),
      bearer('t-acme'),
    );
    assert.equal(ooo.status, 400);
    assert.match(ooo.body, /out of order/);
  });

  it('enforces maxRequestBytes while reading a chunked body without Content-Length', async () => {
    const { port } = app.server.address() as AddressInfo;
    const status = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/write',
          headers: {
            authorization: 'Bearer t-acme',
            'content-type': 'application/x-protobuf',
            'content-encoding': 'snappy',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve({ code: res.statusCode ?? 0, text }));
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        err.code === 'EPIPE' || err.code === 'ECONNRESET' ? undefined : reject(err),
      );
      const chunk = Buffer.alloc(16 * 1024, 7);
      let sent = 0;
      const write = (): void => {
        while (sent < 10 && req.write(chunk)) sent++;
        if (sent < 10) req.once('drain', write);
        else req.end();
      };
      write();
    });
    assert.equal(status.code, 413);
    assert.match(status.text, /over the limit maxRequestBytes=65536/);
  });

  it('acknowledged samples survive a restart', async () => {
    await stop();
    await start();
    const load = await select(1, [{ name: '__name__', type: '=', value: 'node_load1' }]);
    assert.equal(load.length, 2);
    for (const s of load) assert.ok(s.timestamps.length >= 3);
    const [gone] = await select(1, [{ name: '__name__', type: '=', value: 'gone' }]);
    assert.ok(gone && isStaleNaN(gone.values[1]!));
  });
});
