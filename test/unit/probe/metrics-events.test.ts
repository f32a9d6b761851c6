import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLabel, labelsToRecord } from '../../../src/model/labels.ts';
import { isStaleNaN } from '../../../src/model/samples.ts';
import { outcomeSeries, staleSeries } from '../../../src/probe/metrics.ts';
import { createJsonlEventStore, probeEventsPath } from '../../../src/probe/events.ts';
import { formatDistinguishedName, parseCertTime } from '../../../src/probe/tls-info.ts';
import type { ProbeOutcome } from '../../../src/probe/types.ts';

const target = { tenantSlug: 'acme', url: 'https://shop.acme.test/', name: 'Shop' };
const outcome: ProbeOutcome = {
  startedAt: 1_700_000_000_000,
  success: true,
  reason: null,
  durationSeconds: 0.25,
  statusCode: 200,
  httpVersion: 1.1,
  contentLength: 512,
  bodyBytes: 512,
  bodyTruncated: false,
  redirects: 1,
  ssl: true,
  failedDueToRegex: false,
  phases: { resolve: 0.01, connect: 0.02, tls: 0.05, processing: 0.1, transfer: 0.01 },
  dnsLookupSeconds: 0.01,
  ipProtocol: 4,
  finalUrl: 'https://shop.acme.test/home',
  tls: {
    version: 'TLS 1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    earliestCertExpiry: 1_800_000_000,
    lastChainExpiry: 1_800_000_000,
    authorizationError: null,
    leaf: {
      fingerprintSha256: 'ab',
      subject: 'CN=shop.acme.test',
      issuer: "CN=R3,O=Let's Encrypt,C=US",
      subjectAlternative: 'shop.acme.test',
      serialNumber: '0a',
    },
  },
};

test('a probe becomes blackbox-named series with tenant/instance/job/endpoint labels', () => {
  const series = outcomeSeries(target, outcome);
  const byName = (name: string) => series.filter((s) => getLabel(s.labels, '__name__') === name);
  for (const s of series) {
    const l = labelsToRecord(s.labels);
    assert.equal(l.tenant, 'acme');
    assert.equal(l.instance, 'https://shop.acme.test/');
    assert.equal(l.job, 'probe');
    assert.equal(l.endpoint, 'Shop');
    assert.deepEqual(
      s.labels.map((x) => x.name),
      [...s.labels.map((x) => x.name)].sort(),
      'labels sorted',
    );
    assert.equal(s.samples[0]!.t, outcome.startedAt);
  }
  assert.equal(byName('probe_success')[0]!.samples[0]!.v, 1);
  assert.equal(byName('probe_http_status_code')[0]!.samples[0]!.v, 200);
  assert.deepEqual(
    byName('probe_http_duration_seconds')
      .map((s) => getLabel(s.labels, 'phase'))
      .sort(),
    ['connect', 'processing', 'resolve', 'tls', 'transfer'],
  );
  assert.equal(byName('probe_ssl_earliest_cert_expiry')[0]!.samples[0]!.v, 1_800_000_000);
  assert.equal(byName('probe_ssl_last_chain_expiry_timestamp_seconds').length, 1);
  assert.equal(getLabel(byName('probe_tls_version_info')[0]!.labels, 'version'), 'TLS 1.3');
  const info = labelsToRecord(byName('probe_ssl_last_chain_info')[0]!.labels);
  assert.equal(info.issuer, "CN=R3,O=Let's Encrypt,C=US");
  assert.equal(info.serialnumber, '0a');
  for (const n of [
    'probe_duration_seconds',
    'probe_http_content_length',
    'probe_http_redirects',
    'probe_http_ssl',
    'probe_http_version',
    'probe_failed_due_to_regex',
  ]) {
    assert.equal(byName(n).length, 1, n);
  }
});

test('the instance label never carries URL credentials', () => {
  const series = outcomeSeries({ ...target, url: 'https://user:secret@shop.acme.test/' }, outcome);
  assert.ok(series.every((s) => getLabel(s.labels, 'instance') === 'https://shop.acme.test/'));
});

test('no TLS facts, no TLS series; series gone since last time get a staleness marker', () => {
  const plain = outcomeSeries(target, {
    ...outcome,
    ssl: false,
    tls: null,
    startedAt: outcome.startedAt + 60_000,
  });
  assert.ok(!plain.some((s) => getLabel(s.labels, '__name__')!.startsWith('probe_ssl')));
  const stale = staleSeries(
    outcomeSeries(target, outcome).map((s) => s.labels),
    plain,
    outcome.startedAt + 60_000,
  );
  assert.deepEqual(stale.map((s) => getLabel(s.labels, '__name__')).sort(), [
    'probe_ssl_earliest_cert_expiry',
    'probe_ssl_last_chain_expiry_timestamp_seconds',
    'probe_ssl_last_chain_info',
    'probe_tls_cipher_info',
    'probe_tls_version_info',
  ]);
  assert.ok(stale.every((s) => isStaleNaN(s.samples[0]!.v)));
});

test('certificate names and times', () => {
  assert.equal(parseCertTime('Mar  1 12:00:05 2030 GMT'), Date.UTC(2030, 2, 1, 12, 0, 5) / 1000);
  assert.equal(parseCertTime('Dec 31 23:59:59 2049 GMT'), Date.UTC(2049, 11, 31, 23, 59, 59) / 1000);
  assert.throws(() => parseCertTime('2030-03-01'), /unrecognised certificate time/);
  assert.equal(formatDistinguishedName("C=US\nO=Let's Encrypt\nCN=R3"), "CN=R3,O=Let's Encrypt,C=US");
  assert.equal(
    formatDistinguishedName('C=DE\nST=Berlin\nL=Berlin\nO=Acme, Inc.\nOU=Web\nCN=acme.test'),
    'CN=acme.test,OU=Web,O=Acme\\, Inc.,L=Berlin,ST=Berlin,C=DE',
  );
});

test('JSONL event store: per-tenant file, ordered appends, filters, torn line skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'irin-probe-events-'));
  try {
    const store = createJsonlEventStore(dir);
    await Promise.all([
      store.append(7, { t: 1000, endpointId: 1, state: 'up', reason: null, statusCode: 200 }),
      store.append(7, {
        t: 2000,
        endpointId: 1,
        state: 'down',
        reason: { code: 'timeout', detail: 'no answer within 5 s' },
        statusCode: 0,
      }),
      store.append(7, { t: 1500, endpointId: 2, state: 'up', reason: null, statusCode: 200 }),
      store.append(8, { t: 1000, endpointId: 9, state: 'down', reason: null, statusCode: 500 }),
    ]);
    const path = probeEventsPath(dir, 7);
    assert.equal(path, join(dir, 'tenants', '7', 'probe-events.jsonl'));
    assert.equal(readFileSync(path, 'utf8').trim().split('\n').length, 3);
    appendFileSync(path, '{"t":3000,"endpointId":1,"sta');
    assert.deepEqual(
      (await store.read(7, { endpointId: 1 })).map((e) => e.state),
      ['up', 'down'],
    );
    assert.deepEqual(
      (await store.read(7, { from: 1200 })).map((e) => e.t),
      [1500, 2000],
    );
    const last = await store.lastStates(7);
    assert.equal(last.get(1)?.reason?.code, 'timeout');
    assert.equal(last.size, 2);
    assert.equal((await store.read(8)).length, 1, 'tenants are separate files');
    assert.deepEqual(await store.read(99), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
