import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createAddressPolicy } from '../../../src/probe/address-policy.ts';
import type { Resolver } from '../../../src/probe/address-policy.ts';
import { probeHttp } from '../../../src/probe/http-probe.ts';
import type { HttpProbeOptions } from '../../../src/probe/http-probe.ts';
import { CertFactory, probeSpec, startServer } from './helpers.ts';
import type { TestServer } from './helpers.ts';

const loopback = createAddressPolicy({ allow: ['127.0.0.0/8'] });
const strict = createAddressPolicy();

const opts = (over: Partial<HttpProbeOptions> = {}): HttpProbeOptions => ({ policy: loopback, ...over });

describe('HTTP probe against local servers', () => {
  let server: TestServer;
  const seenHeaders: Record<string, string | undefined>[] = [];
  before(async () => {
    server = await startServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      seenHeaders.push({
        path: url.pathname,
        auth: req.headers['x-api-key'] as string | undefined,
        method: req.method,
      });
      switch (url.pathname) {
        case '/ok':
          res
            .writeHead(200, { 'content-type': 'text/html', 'content-length': '40' })
            .end('<h1>Welcome to Irin</h1> status: healthy');
          return;
        case '/fail':
          res.writeHead(500).end('boom');
          return;
        case '/hang':
          return; // never answers
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('start…');
          return; // body never ends
        case '/r1':
          res.writeHead(302, { location: '/r2' }).end();
          return;
        case '/r2':
          res.writeHead(301, { location: `http://127.0.0.1:${server.port}/ok` }).end();
          return;
        case '/loop':
          res.writeHead(302, { location: '/loop' }).end();
          return;
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(3 * 1024 * 1024) });
          res.end(Buffer.alloc(3 * 1024 * 1024, 'a'));
          return;
        case '/chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part one ');
          res.end('part two');
          return;
        default:
          res.writeHead(404).end();
      }
    });
  });
  after(() => server.close());

  test('200 is a success with timed phases and blackbox-style facts', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/ok`), opts());
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.equal(o.reason, null);
    assert.equal(o.statusCode, 200);
    assert.equal(o.httpVersion, 1.1);
    assert.equal(o.contentLength, Buffer.byteLength('<h1>Welcome to Irin</h1> status: healthy'));
    assert.equal(o.bodyBytes, o.contentLength);
    assert.equal(o.redirects, 0);
    assert.equal(o.ssl, false);
    assert.equal(o.tls, null);
    assert.equal(o.ipProtocol, 4);
    assert.equal(o.phases.resolve, 0, 'an address literal needs no resolution');
    for (const p of ['connect', 'processing', 'transfer'] as const) assert.ok(o.phases[p] >= 0, p);
    assert.equal(o.phases.tls, 0);
    const sum = Object.values(o.phases).reduce((a, b) => a + b, 0);
    assert.ok(sum <= o.durationSeconds + 1e-3, 'phases fit inside the probe duration');
  });

  test('a chunked response has content length -1 (unknown), like Go', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/chunked`), opts());
    assert.equal(o.success, true);
    assert.equal(o.contentLength, -1);
    assert.equal(o.bodyBytes, 'part one part two'.length);
  });

  test('500 fails with status_mismatch unless expected', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/fail`), opts());
    assert.equal(o.success, false);
    assert.equal(o.statusCode, 500);
    assert.equal(o.reason?.code, 'status_mismatch');
    assert.match(o.reason!.detail, /status 500, expected 2xx/);
    const ok = await probeHttp(probeSpec(`${server.url}/fail`, { expectedStatus: [500, 503] }), opts());
    assert.equal(ok.success, true);
  });

  test('a hanging server times out within the probe timeout, naming the phase', async () => {
    const started = Date.now();
    const o = await probeHttp(probeSpec(`${server.url}/hang`, { timeoutSeconds: 0.4 }), opts());
    const took = Date.now() - started;
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'timeout');
    assert.match(o.reason!.detail, /stuck in processing/);
    assert.ok(took >= 350 && took < 1500, `took ${took} ms`);
    const body = await probeHttp(probeSpec(`${server.url}/slow-body`, { timeoutSeconds: 0.4 }), opts());
    assert.equal(body.reason?.code, 'timeout');
    assert.match(body.reason!.detail, /stuck in transfer/);
    assert.equal(body.statusCode, 200);
  });

  test('redirects are followed and counted', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/r1`), opts());
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.equal(o.redirects, 2);
    assert.equal(o.statusCode, 200);
    assert.equal(o.finalUrl, `${server.url}/ok`);
  });

  test('redirects not followed: the 3xx is the answer', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/r1`, { followRedirects: false }), opts());
    assert.equal(o.success, false);
    assert.equal(o.statusCode, 302);
    assert.equal(o.redirects, 1);
    assert.equal(o.reason?.code, 'status_mismatch');
    const accepted = await probeHttp(
      probeSpec(`${server.url}/r1`, { followRedirects: false, expectedStatus: [302] }),
      opts(),
    );
    assert.equal(accepted.success, true);
  });

  test('a redirect loop stops at the cap with redirect_limit', async () => {
    const o = await probeHttp(probeSpec(`${server.url}/loop`), opts({ maxRedirects: 3 }));
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'redirect_limit');
    assert.equal(o.redirects, 4);
  });

  test('keyword must match / must not match', async () => {
    const hit = await probeHttp(
      probeSpec(`${server.url}/ok`, {
        bodyMatch: { kind: 'keyword', pattern: 'Welcome to Irin', negate: false },
      }),
      opts(),
    );
    assert.equal(hit.success, true);
    assert.equal(hit.failedDueToRegex, false);
    const miss = await probeHttp(
      probeSpec(`${server.url}/ok`, {
        bodyMatch: { kind: 'keyword', pattern: 'Maintenance', negate: false },
      }),
      opts(),
    );
    assert.equal(miss.success, false);
    assert.equal(miss.reason?.code, 'body_keyword_missing');
    assert.equal(miss.failedDueToRegex, true);
    const forbidden = await probeHttp(
      probeSpec(`${server.url}/ok`, { bodyMatch: { kind: 'keyword', pattern: 'healthy', negate: true } }),
      opts(),
    );
    assert.equal(forbidden.reason?.code, 'body_keyword_present');
  });

  test('regex must match / must not match, and a backtracking regex is cut off', async () => {
    const ok = await probeHttp(
      probeSpec(`${server.url}/ok`, {
        bodyMatch: { kind: 'regex', pattern: 'status: (healthy|ok)', negate: false },
      }),
      opts(),
    );
    assert.equal(ok.success, true);
    const matched = await probeHttp(
      probeSpec(`${server.url}/ok`, {
        bodyMatch: { kind: 'regex', pattern: 'status: \\w+y$', negate: true },
      }),
      opts(),
    );
    assert.equal(matched.success, false);
    assert.equal(matched.reason?.code, 'body_regex_matched');
    const missing = await probeHttp(
      probeSpec(`${server.url}/ok`, { bodyMatch: { kind: 'regex', pattern: '^error', negate: false } }),
      opts(),
    );
    assert.equal(missing.reason?.code, 'body_regex_missing');
    const started = Date.now();
    const evil = await probeHttp(
      probeSpec(`${server.url}/big`, { bodyMatch: { kind: 'regex', pattern: '(a|aa)+$b', negate: false } }),
      opts({ maxBodyBytes: 64 * 1024 }),
    );
    assert.equal(evil.reason?.code, 'body_regex_invalid');
    assert.ok(Date.now() - started < 3000, 'the regex time limit holds');
    const invalid = await probeHttp(
      probeSpec(`${server.url}/ok`, { bodyMatch: { kind: 'regex', pattern: '(', negate: false } }),
      opts(),
    );
    assert.equal(invalid.reason?.code, 'body_regex_invalid');
  });

  test('the body read is capped; the keyword is searched in what was read', async () => {
    const o = await probeHttp(
      probeSpec(`${server.url}/big`, { bodyMatch: { kind: 'keyword', pattern: 'aaaa', negate: false } }),
      opts({ maxBodyBytes: 4096 }),
    );
    assert.equal(o.success, true);
    assert.equal(o.bodyBytes, 4096);
    assert.equal(o.bodyTruncated, true);
    assert.equal(o.contentLength, 3 * 1024 * 1024);
  });

  test('custom headers are sent; secret ones are dropped on a redirect to another host', async () => {
    const other = await startServer((_req, res) => res.writeHead(200).end('other'), undefined, '127.0.0.2');
    const hopper = await startServer((req, res) => {
      seenHeaders.push({ path: 'hopper', auth: req.headers['x-api-key'] as string | undefined });
      res.writeHead(302, { location: `${other.url}/` }).end();
    });
    try {
      seenHeaders.length = 0;
      const o = await probeHttp(
        probeSpec(`${hopper.url}/`, {
          method: 'POST',
          headers: [{ name: 'X-Api-Key', value: 's3cret', secret: true }],
        }),
        opts(),
      );
      assert.equal(o.success, true, JSON.stringify(o.reason));
      assert.deepEqual(seenHeaders[0], { path: 'hopper', auth: 's3cret' });
      assert.equal(other.connections(), 1);
    } finally {
      await other.close();
      await hopper.close();
    }
  });

  test('credentials in the URL are sent as basic auth and never reported back', async () => {
    let auth: string | undefined;
    const s = await startServer((req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200).end();
    });
    try {
      const o = await probeHttp(probeSpec(`http://bob:p%40ss@127.0.0.1:${s.port}/x`), opts());
      assert.equal(o.success, true);
      assert.equal(auth, `Basic ${Buffer.from('bob:p@ss').toString('base64')}`);
      assert.equal(o.finalUrl, `http://127.0.0.1:${s.port}/x`);
    } finally {
      await s.close();
    }
  });

  test('connection refused and DNS errors are named', async () => {
    const closed = await startServer((_q, r) => r.end());
    const port = closed.port;
    await closed.close();
    const refused = await probeHttp(probeSpec(`http://127.0.0.1:${port}/`), opts());
    assert.equal(refused.reason?.code, 'connection_refused');
    const noDns: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    const dnsFail = await probeHttp(probeSpec('http://does-not-exist.example/'), opts({ resolver: noDns }));
    assert.equal(dnsFail.reason?.code, 'dns_error');
    assert.match(dnsFail.reason!.detail, /does-not-exist\.example/);
    const bad = await probeHttp(probeSpec('ftp://example.com/'), opts());
    assert.equal(bad.reason?.code, 'invalid_target');
  });

  test('a name is resolved by our lookup and timed as the resolve phase', async () => {
    const slowResolver: Resolver = async () => {
      await new Promise((r) => setTimeout(r, 50));
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const o = await probeHttp(
      probeSpec(`http://irin-test.internal:${server.port}/ok`),
      opts({ resolver: slowResolver }),
    );
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.ok(o.phases.resolve >= 0.04, `resolve ${o.phases.resolve}`);
    assert.equal(o.dnsLookupSeconds, o.phases.resolve);
  });
});

describe('address policy at connect time', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((_req, res) => res.writeHead(200).end('internal'));
  });
  after(() => server.close());

  test('localhost is refused without a connection when loopback is not allowed', async () => {
    const before = server.connections();
    const o = await probeHttp(probeSpec(`http://localhost:${server.port}/`), { policy: strict });
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'refused_address');
    assert.match(o.reason!.detail, /loopback/);
    assert.equal(server.connections(), before, 'the server saw no connection');
  });

  test('address literals are refused: 10.x, 127.0.0.1, IPv4-mapped IPv6, metadata', async () => {
    for (const url of [
      'http://10.1.2.3/',
      `http://127.0.0.1:${server.port}/`,
      `http://[::ffff:127.0.0.1]:${server.port}/`,
      'http://169.254.169.254/latest/meta-data/',
    ]) {
      const o = await probeHttp(probeSpec(url, { timeoutSeconds: 2 }), { policy: strict });
      assert.equal(o.reason?.code, 'refused_address', url);
      assert.equal(o.phases.connect, 0);
    }
    assert.equal(server.connections(), 0);
  });

  test('a name answering with one internal address among public ones is refused (rebinding)', async () => {
    let calls = 0;
    // First answer public, then internal: whatever the answer at connect time is, it is checked.
    const rebinding: Resolver = async () =>
      ++calls === 1
        ? [{ address: '93.184.216.34', family: 4 }]
        : [
            { address: '93.184.216.34', family: 4 },
            { address: '127.0.0.1', family: 4 },
          ];
    await rebinding('x', 0);
    const o = await probeHttp(probeSpec(`http://rebind.example:${server.port}/`), {
      policy: strict,
      resolver: rebinding,
    });
    assert.equal(o.reason?.code, 'refused_address');
    assert.equal(server.connections(), 0);
  });

  test('a redirect to a refused address is refused before connecting', async () => {
    const inner = await startServer((_q, r) => r.writeHead(200).end('secret'), undefined, '127.0.0.2');
    const outer = await startServer((_q, r) => r.writeHead(302, { location: `${inner.url}/admin` }).end());
    try {
      const o = await probeHttp(probeSpec(`${outer.url}/`), {
        policy: createAddressPolicy({ allow: ['127.0.0.1/32'] }),
      });
      assert.equal(o.reason?.code, 'refused_address');
      assert.equal(o.redirects, 1);
      assert.equal(outer.connections(), 1);
      assert.equal(inner.connections(), 0);
    } finally {
      await inner.close();
      await outer.close();
    }
  });
});

describe('HTTPS', () => {
  const certs = new CertFactory();
  const servers: TestServer[] = [];
  const now = new Date();
  const at = (days: number): Date => new Date(Math.floor(now.getTime() / 1000) * 1000 + days * 86_400_000);
  let ca: ReturnType<CertFactory['ca']>;
  let caX509: X509Certificate;
  const serve = async (c: { key: string; cert: string }): Promise<TestServer> => {
    const s = await startServer((_req, res) => res.writeHead(200).end('secure hello'), c);
    servers.push(s);
    return s;
  };
  before(() => {
    ca = certs.ca('Irin Test CA', 60);
    caX509 = new X509Certificate(ca.cert);
  });
  after(async () => {
    for (const s of servers) await s.close();
    certs.cleanup();
  });

  test('self-signed, verification off: success and probe_ssl_earliest_cert_expiry equals the certificate notAfter', async () => {
    const cert = certs.selfSigned('localhost', 45);
    const s = await serve(cert);
    const o = await probeHttp(probeSpec(`${s.url}/`, { tlsVerify: false }), opts());
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.equal(o.ssl, true);
    assert.ok(o.tls);
    assert.equal(o.tls.earliestCertExpiry, cert.notAfter);
    assert.equal(o.tls.lastChainExpiry, null, 'nothing was verified');
    assert.match(o.tls.authorizationError ?? '', /SELF_SIGNED/);
    assert.equal(o.tls.version, 'TLS 1.3');
    assert.equal(o.tls.leaf.subject, 'CN=localhost,O=Irin Test,C=DE');
    assert.equal(o.tls.leaf.issuer, 'CN=localhost,O=Irin Test,C=DE');
    assert.equal(o.tls.leaf.subjectAlternative, 'localhost');
    assert.equal(
      o.tls.leaf.fingerprintSha256,
      new X509Certificate(cert.cert).fingerprint256.replaceAll(':', '').toLowerCase(),
    );
    assert.ok(o.phases.tls > 0, 'the handshake is timed');
  });

  test('self-signed, verification on: tls_error naming it', async () => {
    const s = await serve(certs.selfSigned('localhost', 10));
    const o = await probeHttp(probeSpec(`${s.url}/`), opts());
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'tls_error');
    assert.match(o.reason!.detail, /self-signed certificate/);
  });

  test('a CA-signed leaf verifies; both expiry metrics follow the chain', async () => {
    const leaf = certs.leaf('good', ca, 'IP:127.0.0.1,DNS:localhost', at(-1), at(30));
    const s = await serve({ key: leaf.key, cert: leaf.cert + ca.cert });
    const o = await probeHttp(
      probeSpec(`https://localhost:${s.port}/`),
      opts({ extraCa: [caX509], resolver: async () => [{ address: '127.0.0.1', family: 4 }] }),
    );
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.equal(leaf.notAfter, at(30).getTime() / 1000);
    assert.equal(o.tls?.earliestCertExpiry, leaf.notAfter, 'the leaf expires before the CA');
    assert.equal(o.tls?.lastChainExpiry, leaf.notAfter);
    assert.equal(o.tls?.leaf.issuer, 'CN=Irin Test CA,O=Irin Test');
    assert.equal(o.tls?.authorizationError, null);
  });

  test('the chain expiry is the CA when the CA expires first', async () => {
    const shortCa = certs.ca('Short CA', 5);
    const leaf = certs.leaf('long', shortCa, 'IP:127.0.0.1', at(-1), at(40));
    const s = await serve({ key: leaf.key, cert: leaf.cert + shortCa.cert });
    const o = await probeHttp(probeSpec(`${s.url}/`), opts({ extraCa: [new X509Certificate(shortCa.cert)] }));
    assert.equal(o.success, true, JSON.stringify(o.reason));
    assert.equal(o.tls?.earliestCertExpiry, shortCa.notAfter);
    assert.equal(o.tls?.lastChainExpiry, shortCa.notAfter);
  });

  test('an expired certificate fails with "certificate has expired" when verifying, not when not', async () => {
    const leaf = certs.leaf('expired', ca, 'IP:127.0.0.1', at(-20), at(-2));
    const s = await serve(leaf);
    const o = await probeHttp(probeSpec(`${s.url}/`), opts({ extraCa: [caX509] }));
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'tls_error');
    assert.match(o.reason!.detail, /certificate has expired/);
    const lax = await probeHttp(probeSpec(`${s.url}/`, { tlsVerify: false }), opts({ extraCa: [caX509] }));
    assert.equal(lax.success, true);
    assert.equal(lax.tls?.earliestCertExpiry, leaf.notAfter);
    assert.ok(lax.tls!.earliestCertExpiry < Date.now() / 1000);
  });

  test('a hostname mismatch fails with its reason', async () => {
    const leaf = certs.leaf('mismatch', ca, 'DNS:other.example', at(-1), at(10));
    const s = await serve(leaf);
    const o = await probeHttp(
      probeSpec(`https://localhost:${s.port}/`),
      opts({ extraCa: [caX509], resolver: async () => [{ address: '127.0.0.1', family: 4 }] }),
    );
    assert.equal(o.success, false);
    assert.equal(o.reason?.code, 'tls_error');
    assert.match(o.reason!.detail, /hostname mismatch/);
    assert.match(o.reason!.detail, /localhost/);
  });
});
