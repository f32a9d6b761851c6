import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { haveBinary, PROMETHEUS_BIN } from '../../support/binaries.ts';
import { ChildServer, freePort } from '../../support/child-server.ts';
import { instantVector, waitFor } from '../../support/http.ts';
import { startTestIrin } from '../../support/irin.ts';
import { Provisioner } from '../../support/provision.ts';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

test('a real Prometheus scrapes and remote-writes to Irin with a server token: tenant and instance are enforced', async (t) => {
  if (!haveBinary(t, PROMETHEUS_BIN)) return;
  const irin = await startTestIrin();
  const prov = new Provisioner(irin.dataDir);
  const dir = mkdtempSync(join(tmpdir(), 'irin-prom-interop-'));
  let counter = 0;
  const target = createServer((_req, res) => {
    counter += 5;
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(
      `# HELP shop_orders_total Orders placed.\n# TYPE shop_orders_total counter\nshop_orders_total{tenant="someone-else"} ${counter}\n# TYPE shop_queue_depth gauge\nshop_queue_depth 7\n`,
    );
  });
  const targetPort = await listen(target);
  try {
    const acme = await prov.tenant('acme-inc', ['acme-svr01']);
    const token = acme.servers['acme-svr01']!;
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: shop',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${targetPort}']`,
        'remote_write:',
        `  - url: ${irin.url}/api/v1/write`,
        '    basic_auth:',
        `      username: ${token.clientId}`,
        `      password: ${token.secret}`,
        '    queue_config:',
        '      batch_send_deadline: 1s',
        '    metadata_config:',
        '      send_interval: 1s',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    const prom = await ChildServer.start(
      'prometheus',
      PROMETHEUS_BIN,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      port,
      '/-/ready',
    );
    try {
      const series = await waitFor(
        'shop_orders_total from Prometheus',
        async () => {
          const r = await instantVector(irin.url, acme.readAuth, 'shop_orders_total');
          return r.length > 0 ? r : undefined;
        },
        30_000,
        250,
      );
      assert.equal(series.length, 1);
      const labels = series[0]!.metric;
      assert.equal(labels.tenant, 'acme-inc', 'the scraped tenant label is overwritten');
      assert.equal(
        labels.instance,
        'acme-svr01',
        'the scrape target address is replaced by the bound server',
      );
      assert.equal(labels.job, 'shop');
      // The queue gauge and Prometheus's own up series arrive too, all under the same identity.
      const up = await instantVector(irin.url, acme.readAuth, 'up{job="shop"}');
      assert.deepEqual(
        up.map((s) => [s.metric.tenant, s.metric.instance, s.value[1]]),
        [['acme-inc', 'acme-svr01', '1']],
      );
      // Metadata sent by Prometheus is kept for /api/v1/metadata.
      const meta = await waitFor(
        'metadata',
        async () => {
          const res = await fetch(`${irin.url}/prometheus/api/v1/metadata?metric=shop_orders_total`, {
            headers: { authorization: acme.readAuth },
          });
          const body = (await res.json()) as { data: Record<string, { type: string; help: string }[]> };
          return body.data.shop_orders_total?.[0];
        },
        20_000,
        250,
      );
      assert.deepEqual({ type: meta.type, help: meta.help }, { type: 'counter', help: 'Orders placed.' });
    } finally {
      await prom.stop();
    }
  } finally {
    target.close();
    await prov.close();
    await irin.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
