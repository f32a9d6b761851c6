import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { pushSeries } from '../../../src/client/remote-write.ts';
import { labelsFromRecord } from '../../../src/model/labels.ts';
import { setTenantStatus } from '../../../src/tenancy/services/tenants.ts';
import { startTestIrin, type TestIrin } from '../../support/irin.ts';
import { instantVector } from '../../support/http.ts';
import { Provisioner, type TenantFixture } from '../../support/provision.ts';

const run = promisify(execFile);

describe('remote write through the real server', () => {
  let irin: TestIrin;
  let prov: Provisioner;
  let acme: TenantFixture;
  let globex: TenantFixture;

  before(async () => {
    irin = await startTestIrin();
    prov = new Provisioner(irin.dataDir);
    acme = await prov.tenant('acme-inc', ['acme-svr01', 'acme-svr02']);
    globex = await prov.tenant('globex', ['globex-svr01']);
  });
  after(async () => {
    await prov.close();
    await irin.stop();
  });

  const write = (
    creds: TenantFixture['push']['basic'],
    labels: Record<string, string>,
    v = 1,
    t = Date.now(),
  ) =>
    pushSeries(
      `${irin.url}/api/v1/write`,
      [{ labels: labelsFromRecord(labels), samples: [{ t, v }] }],
      creds,
    );

  test("a client-forged tenant label lands under the token's own tenant", async () => {
    const res = await write(acme.servers['acme-svr01']!.basic, {
      __name__: 'forged_metric',
      tenant: 'globex',
      job: 'x',
    });
    assert.equal(res.status, 204, res.body);
    const mine = await instantVector(irin.url, acme.readAuth, 'forged_metric');
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.metric.tenant, 'acme-inc');
    assert.equal(mine[0]!.metric.instance, 'acme-svr01');
    assert.deepEqual(await instantVector(irin.url, globex.readAuth, 'forged_metric'), []);
  });

  test('a server-bound token cannot write as another instance', async () => {
    const res = await write(acme.servers['acme-svr01']!.basic, {
      __name__: 'impersonation',
      instance: 'acme-svr02',
    });
    assert.equal(res.status, 204, res.body);
    const series = await instantVector(irin.url, acme.readAuth, 'impersonation');
    assert.deepEqual(
      series.map((s) => s.metric.instance),
      ['acme-svr01'],
    );
    // A tenant-wide token keeps the client's instance label.
    assert.equal(
      (await write(acme.push.basic, { __name__: 'tenant_wide', instance: 'anything' })).status,
      204,
    );
    assert.deepEqual(
      (await instantVector(irin.url, acme.readAuth, 'tenant_wide')).map((s) => s.metric.instance),
      ['anything'],
    );
  });

  test('every credential form works: basic, bearer, CF-Access headers', async () => {
    const token = acme.servers['acme-svr02']!;
    for (const creds of [
      token.basic,
      { kind: 'bearer' as const, token: `${token.clientId}.${token.secret}` },
      { kind: 'cf-access' as const, clientId: token.clientId, clientSecret: token.secret },
    ]) {
      assert.equal((await write(creds, { __name__: `cred_${creds.kind.replace('-', '_')}` })).status, 204);
    }
    assert.equal(
      (await write({ kind: 'basic', username: token.clientId, password: 'wrong' }, { __name__: 'x' })).status,
      401,
    );
    assert.equal((await write({ kind: 'none' }, { __name__: 'x' })).status, 401);
  });

  test('a read key cannot push and a push token cannot read', async () => {
    const res = await fetch(`${irin.url}/api/v1/write`, {
      method: 'POST',
      headers: { authorization: acme.readAuth, 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0]),
    });
    assert.equal(res.status, 403);
    const q = await fetch(`${irin.url}/prometheus/api/v1/query?query=up`, {
      headers: {
        authorization: 'Basic ' + Buffer.from(`${acme.push.clientId}:${acme.push.secret}`).toString('base64'),
      },
    });
    assert.equal(q.status, 403);
  });

  test('a token revoked by the CLI in another process is refused within 1 s', async () => {
    const token = (await prov.tenant('revoke-me', ['svr'])).servers.svr!;
    assert.equal((await write(token.basic, { __name__: 'before_revoke' })).status, 204);
    await run(process.execPath, [
      'bin/irin.mjs',
      'token',
      'revoke',
      token.clientId,
      '-t',
      'revoke-me',
      '--data-dir',
      irin.dataDir,
    ]);
    const revokedAt = Date.now();
    let status = 0;
    while (Date.now() - revokedAt < 1000) {
      status = (await write(token.basic, { __name__: 'after_revoke' })).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, 401, 'revocation not effective within 1 s');
  });

  test("a suspended tenant's tokens are refused, and work again when resumed", async () => {
    const t = await prov.tenant('suspend-me', ['svr']);
    assert.equal((await write(t.servers.svr!.basic, { __name__: 'm' })).status, 204);
    await prov.suspend('suspend-me');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await write(t.servers.svr!.basic, { __name__: 'm' })).status, 401);
    const q = await fetch(`${irin.url}/prometheus/api/v1/query?query=m`, {
      headers: { authorization: t.readAuth },
    });
    assert.equal(q.status, 401);
    await setTenantStatus(prov.ctx, 'suspend-me', 'active');
    await new Promise((r) => setTimeout(r, 600));
    assert.equal((await write(t.servers.svr!.basic, { __name__: 'm' })).status, 204);
  });
});
