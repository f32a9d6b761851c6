import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { credentialHeaders } from '../../../src/client/remote-write.ts';
import { startTestIrin, type TestIrin } from '../../support/irin.ts';
import { Provisioner, type TenantFixture } from '../../support/provision.ts';

describe('Loki push and query through the real server', () => {
  let irin: TestIrin;
  let prov: Provisioner;
  let acme: TenantFixture;
  let globex: TenantFixture;

  before(async () => {
    irin = await startTestIrin();
    prov = new Provisioner(irin.dataDir);
    acme = await prov.tenant('acme-inc', ['web-1']);
    globex = await prov.tenant('globex', ['web-1']);
  });
  after(async () => {
    await prov.close();
    await irin.stop();
  });

  const push = (creds: TenantFixture['push']['basic'], stream: Record<string, string>, lines: string[]) =>
    fetch(`${irin.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...credentialHeaders(creds) },
      body: JSON.stringify({
        streams: [{ stream, values: lines.map((l, i) => [String((Date.now() - 1000 + i) * 1e6), l]) }],
      }),
    });

  const query = async (auth: string, q: string) => {
    const url = new URL(`${irin.url}/loki/api/v1/query_range`);
    url.searchParams.set('query', q);
    url.searchParams.set('start', String((Date.now() - 3600_000) * 1e6));
    url.searchParams.set('end', String((Date.now() + 60_000) * 1e6));
    const res = await fetch(url, { headers: { authorization: auth } });
    assert.equal(res.status, 200, await res.clone().text());
    return (await res.json()) as {
      data: { resultType: string; result: { stream: Record<string, string>; values: [string, string][] }[] };
    };
  };

  test("pushed lines are stored under the token's tenant and instance, and only that tenant reads them", async () => {
    assert.equal(
      (
        await push(acme.servers['web-1']!.basic, { job: 'nginx', tenant: 'globex', instance: 'spoofed' }, [
          'GET /acme-secret 200',
        ])
      ).status,
      204,
    );
    assert.equal(
      (await push(globex.servers['web-1']!.basic, { job: 'nginx' }, ['GET /globex-secret 200'])).status,
      204,
    );
    const mine = await query(acme.readAuth, '{job="nginx"}');
    assert.equal(mine.data.resultType, 'streams');
    assert.deepEqual(
      mine.data.result.map((r) => [r.stream.tenant, r.stream.instance, r.values[0]![1]]),
      [['acme-inc', 'web-1', 'GET /acme-secret 200']],
    );
    const attempt = await query(acme.readAuth, '{tenant=~".+"} |= "secret"');
    assert.deepEqual(
      attempt.data.result.flatMap((r) => r.values.map((v) => v[1])),
      ['GET /acme-secret 200'],
    );
    const labels = (await (
      await fetch(`${irin.url}/loki/api/v1/label/tenant/values`, {
        headers: { authorization: acme.readAuth },
      })
    ).json()) as { data: string[] };
    assert.deepEqual(labels.data, ['acme-inc']);
  });

  test('a read key cannot push logs and a push token cannot query them', async () => {
    const res = await fetch(`${irin.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { authorization: acme.readAuth, 'content-type': 'application/json' },
      body: '{"streams":[]}',
    });
    assert.equal(res.status, 403);
    const q = await fetch(`${irin.url}/loki/api/v1/labels`, { headers: credentialHeaders(acme.push.basic) });
    assert.equal(q.status, 403);
  });
});
