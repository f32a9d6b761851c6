import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushSeries } from '../../../src/client/remote-write.ts';
import { labelsFromRecord } from '../../../src/model/labels.ts';
import { instantVector } from '../../support/http.ts';
import { tempDir } from '../../support/irin.ts';
import { exitOf, spawnIrin } from '../../support/process.ts';
import { Provisioner } from '../../support/provision.ts';

test('kill -9 during a write load: every acknowledged sample is there after restart', async () => {
  const dataDir = tempDir();
  const prov = new Provisioner(dataDir);
  const acme = await prov.tenant('acme-inc', ['w0', 'w1', 'w2', 'w3']);
  await prov.close();
  let irin = await spawnIrin(dataDir);

  const start = Date.now() - 10 * 60_000;
  const acked = new Map<string, number>(); // writer → samples acknowledged
  let stop = false;
  const writer = async (name: string) => {
    let n = 0;
    while (!stop) {
      const samples = Array.from({ length: 20 }, (_, i) => ({ t: start + (n + i) * 10, v: n + i }));
      try {
        const res = await pushSeries(
          `${irin.url}/api/v1/write`,
          [{ labels: labelsFromRecord({ __name__: 'durability_probe', writer: name }), samples }],
          acme.servers[name]!.basic,
        );
        if (res.status !== 204) throw new Error(`push answered ${res.status}: ${res.body}`);
        n += samples.length;
        acked.set(name, n);
      } catch (err) {
        if (!stop) throw err;
      }
    }
  };
  const writers = ['w0', 'w1', 'w2', 'w3'].map((w) =>
    writer(w).catch((err: unknown) => (stop ? undefined : Promise.reject(err))),
  );
  // Kill once the load is well under way (however fast this machine is), with writes in flight.
  const sum = () => [...acked.values()].reduce((a, b) => a + b, 0);
  while (sum() < 1600) await new Promise((r) => setTimeout(r, 20));
  stop = true; // writers stop starting requests; those in flight are cut by the kill
  irin.child.kill('SIGKILL');
  await exitOf(irin.child);
  await Promise.allSettled(writers);

  irin = await spawnIrin(dataDir);
  try {
    const counts = await instantVector(irin.url, acme.readAuth, 'count_over_time(durability_probe[1h])');
    for (const [name, n] of acked) {
      const got = Number(counts.find((s) => s.metric.writer === name)?.value[1] ?? 0);
      assert.ok(got >= n, `${name}: ${n} samples acknowledged, ${got} after restart`);
    }
  } finally {
    irin.child.kill('SIGTERM');
    assert.equal(await exitOf(irin.child), 0);
  }
});
