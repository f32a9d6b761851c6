/** Test servers on 127.0.0.1 and certificates made with the openssl CLI, for the probe tests. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Labels } from '../../../src/model/labels.ts';
import { matchesAll } from '../../../src/model/matchers.ts';
import type { Matcher } from '../../../src/model/matchers.ts';
import type { ProbeSpec } from '../../../src/probe/http-probe.ts';
import type { Querier, SeriesData } from '../../../src/tsdb/types.ts';

/** A plain GET probe of `url` (5 s timeout, any 2xx, TLS verified, redirects followed), with `over` applied. */
export function probeSpec(url: string, over: Partial<ProbeSpec> = {}): ProbeSpec {
  return {
    url,
    method: 'GET',
    timeoutSeconds: 5,
    expectedStatus: [],
    bodyMatch: null,
    tlsVerify: true,
    followRedirects: true,
    headers: [],
    ...over,
  };
}

/** A minimal in-memory querier over fixed series (stands in for one tenant's TSDB partition). */
export function memoryQuerier(series: { labels: Labels; samples: [number, number][] }[]): Querier {
  return {
    select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
      return series
        .filter((s) => matchesAll(s.labels, matchers))
        .map((s) => {
          const inRange = s.samples.filter(([t]) => t >= mint && t <= maxt);
          return {
            labels: s.labels,
            timestamps: Float64Array.from(inRange.map(([t]) => t)),
            values: Float64Array.from(inRange.map(([, v]) => v)),
          };
        })
        .filter((s) => s.timestamps.length > 0);
    },
    labelNames: () => [],
    labelValues: () => [],
  };
}

export interface TestServer {
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function startServer(
  handler: Handler,
  tls?: { key: string; cert: string },
  host = '127.0.0.1',
): Promise<TestServer> {
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert }, handler)
    : http.createServer(handler);
  let count = 0;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface CertFiles {
  readonly key: string;
  readonly cert: string;
  /** notAfter as openssl prints it, converted to unix seconds. */
  readonly notAfter: number;
}

/** openssl req arguments for a new, unencrypted P-256 key. */
const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export class CertFactory {
  readonly dir = mkdtempSync(join(tmpdir(), 'irin-probe-certs-'));
  private serial = 1;

  private openssl(args: string[]): string {
    return execFileSync('openssl', args, {
      cwd: this.dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** notAfter read back by openssl itself (ISO form), independent of the prober's parser. */
  notAfter(certPath: string): number {
    const out = this.openssl(['x509', '-in', certPath, '-noout', '-enddate', '-dateopt', 'iso_8601']).trim();
    const iso = out.replace(/^notAfter=/, '').replace(' ', 'T');
    const t = Date.parse(iso);
    if (Number.isNaN(t)) throw new Error(`cannot parse openssl date ${out}`);
    return t / 1000;
  }

  /** A self-signed certificate valid for `days` days (openssl req -x509 -days N). */
  selfSigned(name: string, days: number, san = 'IP:127.0.0.1,DNS:localhost'): CertFiles {
    const key = join(this.dir, `${name}.key`);
    const cert = join(this.dir, `${name}.crt`);
    this.openssl([
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      String(days),
      '-subj',
      `/C=DE/O=Irin Test/CN=${name}`,
      '-addext',
      `subjectAltName=${san}`,
    ]);
    return {
      key: readFileSync(key, 'utf8'),
      cert: readFileSync(cert, 'utf8'),
      notAfter: this.notAfter(cert),
    };
  }

  /** A CA (self-signed, CA:true). */
  ca(name: string, days: number): CertFiles & { keyPath: string; certPath: string } {
    const keyPath = join(this.dir, `${name}.key`);
    const certPath = join(this.dir, `${name}.crt`);
    this.openssl([
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      String(days),
      '-subj',
      `/O=Irin Test/CN=${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    return {
      keyPath,
      certPath,
      key: readFileSync(keyPath, 'utf8'),
      cert: readFileSync(certPath, 'utf8'),
      notAfter: this.notAfter(certPath),
    };
  }

  /** A leaf signed by `ca` with an exact validity (dates as YYYYMMDDHHMMSSZ), via `openssl x509 -req`. */
  leaf(
    name: string,
    ca: { keyPath: string; certPath: string },
    san: string,
    notBefore: Date,
    notAfter: Date,
  ): CertFiles {
    const key = join(this.dir, `${name}.key`);
    const csr = join(this.dir, `${name}.csr`);
    const cert = join(this.dir, `${name}.crt`);
    this.openssl(['req', '-new', ...NEW_EC_KEY, '-keyout', key, '-out', csr, '-subj', `/CN=${name}`]);
    // `openssl ca` is the CLI that takes explicit start and end dates in OpenSSL 3.0.
    const cnf = join(this.dir, `${name}.cnf`);
    writeFileSync(join(this.dir, 'index.txt'), '');
    writeFileSync(
      cnf,
      [
        '[ca]',
        'default_ca = d',
        '[d]',
        `database = ${join(this.dir, 'index.txt')}`,
        `new_certs_dir = ${this.dir}`,
        `serial = ${join(this.dir, 'serial')}`,
        'default_md = sha256',
        'policy = p',
        'unique_subject = no',
        'x509_extensions = e',
        '[p]',
        'commonName = supplied',
        '[e]',
        'basicConstraints = CA:FALSE',
        `subjectAltName = ${san}`,
        'extendedKeyUsage = serverAuth',
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'serial'), (this.serial++ + 0x1000).toString(16).padStart(4, '0') + '\n');
    const fmt = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    this.openssl([
      'ca',
      '-batch',
      '-notext',
      '-config',
      cnf,
      '-cert',
      ca.certPath,
      '-keyfile',
      ca.keyPath,
      '-in',
      csr,
      '-out',
      cert,
      '-startdate',
      fmt(notBefore),
      '-enddate',
      fmt(notAfter),
    ]);
    return {
      key: readFileSync(key, 'utf8'),
      cert: readFileSync(cert, 'utf8'),
      notAfter: this.notAfter(cert),
    };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
