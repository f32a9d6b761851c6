import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../../src/config/load.ts';
import { createHttpServer } from '../../../src/server/app.ts';
import { startTestIrin, tempDir } from '../../support/irin.ts';
import { compressWriteRequest, encodeWriteRequest } from '../../../src/client/remote-write.ts';
import { labelsFromRecord } from '../../../src/model/labels.ts';
import { instantVector } from '../../support/http.ts';
import { exitOf, spawnIrin } from '../../support/process.ts';
import { Provisioner } from '../../support/provision.ts';

const silent = pino({ level: 'silent' });

test('health, readiness and self-metrics', async () => {
  const irin = await startTestIrin();
  try {
    assert.equal((await fetch(`${irin.url}/-/healthy`)).status, 200);
    assert.equal((await fetch(`${irin.url}/-/ready`)).status, 200);
    const metrics = await (await fetch(`${irin.url}/metrics`)).text();
    assert.match(metrics, /^irin_build_info\{version="[^"]+",node_version="v\d+/m);
    assert.match(metrics, /^irin_process_resident_memory_bytes /m);
  } finally {
    await irin.stop();
  }
});

async function clientAddress(
  trusted: string[],
  remoteAddress: string,
  forwardedFor: string,
): Promise<string> {
  const config = loadConfig({ env: {}, overrides: { 'server.trusted_proxies': trusted } });
  const app = createHttpServer(config, silent);
  app.get('/whoami', async (req) => req.ip);
  const res = await app.inject({
    url: '/whoami',
    remoteAddress,
    headers: { 'x-forwarded-for': forwardedFor },
  });
  await app.close();
  return res.body;
}

test('X-Forwarded-For is believed only from a configured trusted proxy', async () => {
  assert.equal(await clientAddress([], '203.0.113.9', '198.51.100.1'), '203.0.113.9');
  assert.equal(await clientAddress(['127.0.0.1'], '203.0.113.9', '198.51.100.1'), '203.0.113.9');
  assert.equal(await clientAddress(['127.0.0.1'], '127.0.0.1', '198.51.100.1'), '198.51.100.1');
  assert.equal(await clientAddress(['10.0.0.0/8'], '10.1.2.3', '198.51.100.1'), '198.51.100.1');
  // A client behind the proxy cannot smuggle an address in front of its own: the proxy appends the
  // real peer, and only trusted hops are skipped from the right.
  assert.equal(await clientAddress(['127.0.0.1'], '127.0.0.1', '1.1.1.1, 198.51.100.7'), '198.51.100.7');
});

test('serves HTTPS when a certificate and key are configured', async () => {
  const dir = tempDir();
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
    ],
    { stdio: 'ignore' },
  );
  const irin = await startTestIrin({ 'server.tls_cert_file': cert, 'server.tls_key_file': key });
  try {
    assert.match(irin.url, /^https:/);
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.get(
        `${irin.url}/-/healthy`,
        { ca: readFileSync(cert), servername: 'localhost', checkServerIdentity: () => undefined },
        (res) => {
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
    });
    assert.match(body, /Healthy/);
  } finally {
    await irin.stop();
  }
});

test('irin serve: a bad config exits with a message naming the option', async () => {
  const dir = tempDir();
  const file = join(dir, 'irin.yaml');
  writeFileSync(file, 'server:\n  port: "not a port"\n');
  const child = spawn(process.execPath, ['bin/irin.mjs', 'serve', '--config', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(stderr, /server\.port/);
});

test('irin serve: SIGTERM lets an in-flight push finish and keeps its data', async () => {
  const dataDir = tempDir();
  const prov = new Provisioner(dataDir);
  const acme = await prov.tenant('acme-inc', ['svr01']);
  await prov.close();
  let irin = await spawnIrin(dataDir);
  const body = compressWriteRequest(
    encodeWriteRequest([
      { labels: labelsFromRecord({ __name__: 'inflight_at_shutdown' }), samples: [{ t: Date.now(), v: 42 }] },
    ]),
  );
  const { port, hostname } = new URL(irin.url);
  const socket = connect(Number(port), hostname);
  await new Promise((r) => socket.once('connect', r));
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString()));
  const token = acme.servers.svr01!;
  socket.write(
    `POST /api/v1/write HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n` +
      `Authorization: Basic ${Buffer.from(`${token.clientId}:${token.secret}`).toString('base64')}\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(body.subarray(0, 5));
  await new Promise((r) => setTimeout(r, 300)); // the request is now in flight, its body half sent
  irin.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  socket.write(body.subarray(5));
  await new Promise((r) => socket.once('close', r));
  assert.match(response, /^HTTP\/1\.1 204/, response + irin.output());
  assert.equal(await exitOf(irin.child), 0);
  assert.match(irin.output(), /shutting down/);

  irin = await spawnIrin(dataDir);
  try {
    const result = await instantVector(irin.url, acme.readAuth, 'inflight_at_shutdown');
    assert.deepEqual(
      result.map((r) => r.value[1]),
      ['42'],
    );
  } finally {
    irin.child.kill('SIGTERM');
    await exitOf(irin.child);
  }
});
