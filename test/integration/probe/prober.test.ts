import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { labelsKey } from '../../../src/model/labels.ts';
import type { Labels } from '../../../src/model/labels.ts';
import type { ReadPrincipal } from '../../../src/auth/principal.ts';
import { createProber, probeApiRoutes } from '../../../src/probe/index.ts';
import type { ProbeTarget } from '../../../src/probe/index.ts';
import { memoryQuerier, probeSpec, startServer } from './helpers.ts';

test('end to end: prober → samples + probe-events.jsonl → status API', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'irin-prober-'));
  let healthy = false;
  const server = await startServer((_req, res) =>
    res.writeHead(healthy ? 200 : 503).end(healthy ? 'fine' : 'maintenance'),
  );
  const stored = new Map<string, { labels: Labels; samples: [number, number][] }>();
  const endpoint: ProbeTarget = {
    id: 42,
    tenantId: 7,
    tenantSlug: 'acme',
    name: 'API',
    intervalSeconds: 0.1,
    ...probeSpec(`${server.url}/health`, { timeoutSeconds: 2 }),
  };
  const prober = createProber({
    dataDir,
    source: { listEnabledEndpoints: () => [endpoint] },
    sink: async (tenantId, series) => {
      assert.equal(tenantId, 7);
      for (const s of series) {
        const key = labelsKey(s.labels);
        const entry = stored.get(key) ?? { labels: s.labels, samples: [] };
        entry.samples.push(...s.samples.map((x): [number, number] => [x.t, x.v]));
        stored.set(key, entry);
      }
    },
    allowCidrs: ['127.0.0.0/8'],
  });
  const app = Fastify();
  try {
    await prober.scheduler.start();
    await new Promise((r) => setTimeout(r, 400));
    healthy = true;
    await new Promise((r) => setTimeout(r, 400));
    await probeApiRoutes(app, {
      authenticator: {
        authenticateRead: async (): Promise<ReadPrincipal> => ({
          kind: 'read',
          tenantId: 7,
          tenantSlug: 'acme',
          actor: 'user:1',
          limits: {} as ReadPrincipal['limits'],
        }),
      },
      endpointsFor: () => [{ ...endpoint, enabled: true }],
      querierFor: () => memoryQuerier([...stored.values()]),
      eventsFor: (id) => prober.events.read(id),
      lastResult: prober.scheduler.lastResult,
    });
    const lines = readFileSync(join(dataDir, 'tenants', '7', 'probe-events.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((e) => [e.endpointId, e.state, e.reason?.code ?? null]),
      [
        [42, 'down', 'status_mismatch'],
        [42, 'up', null],
      ],
    );
    const status = (await app.inject({ url: '/api/v1/endpoints/42/status' })).json().data;
    assert.equal(status.state, 'up');
    assert.equal(status.lastResult.source, 'prober');
    assert.equal(status.lastProbe.httpVersion, 1.1);
    const incidents = (await app.inject({ url: '/api/v1/endpoints/42/incidents?days=1' })).json().data;
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0].reason.code, 'status_mismatch');
    assert.equal(incidents[0].open, false);
  } finally {
    await prober.scheduler.stop();
    await app.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
