/**
 * Probes the same local HTTPS targets with Debian's prometheus-blackbox-exporter and with Irin's
 * prober and prints what each says: success, status code, certificate expiries, redirects.
 *
 *   node --import tsx test/integration/probe/compare-blackbox.ts
 *
 * Also used by blackbox-compare.test.ts, which asserts that the two agree.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { X509Certificate } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAddressPolicy } from '../../../src/probe/address-policy.ts';
import { probeHttp } from '../../../src/probe/http-probe.ts';
import { outcomeSeries } from '../../../src/probe/metrics.ts';
import { BLACKBOX_EXPORTER_BIN } from '../../support/binaries.ts';
import { ChildServer, freePort } from '../../support/child-server.ts';
import { CertFactory, probeSpec, startServer } from './helpers.ts';
import type { TestServer } from './helpers.ts';

export interface ComparedValues {
  readonly probe_success: number | null;
  readonly probe_http_status_code: number | null;
  readonly probe_ssl_earliest_cert_expiry: number | null;
  readonly probe_ssl_last_chain_expiry_timestamp_seconds: number | null;
  readonly probe_http_redirects: number | null;
  readonly probe_http_ssl: number | null;
  readonly probe_tls_version: string | null;
  /** The labels of probe_ssl_last_chain_info, as printed. */
  readonly chain_info: string | null;
}

export interface ComparisonRow {
  readonly case: string;
  readonly target: string;
  readonly blackbox: ComparedValues;
  readonly irin: ComparedValues;
  readonly irinReason: string | null;
}

const METRICS = [
  'probe_success',
  'probe_http_status_code',
  'probe_ssl_earliest_cert_expiry',
  'probe_ssl_last_chain_expiry_timestamp_seconds',
  'probe_http_redirects',
  'probe_http_ssl',
] as const;

/** Reads `name{…} value` lines of the Prometheus text format (enough for /probe output). */
function parseExposition(text: string): { name: string; labels: string; value: number }[] {
  const out: { name: string; labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)$/.exec(line.trim());
    if (m) out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

function fromExposition(text: string): ComparedValues {
  const rows = parseExposition(text);
  const one = (n: string): number | null => rows.find((r) => r.name === n)?.value ?? null;
  const tls = rows.find((r) => r.name === 'probe_tls_version_info');
  return {
    probe_success: one('probe_success'),
    probe_http_status_code: one('probe_http_status_code'),
    probe_ssl_earliest_cert_expiry: one('probe_ssl_earliest_cert_expiry'),
    probe_ssl_last_chain_expiry_timestamp_seconds: one('probe_ssl_last_chain_expiry_timestamp_seconds'),
    probe_http_redirects: one('probe_http_redirects'),
    probe_http_ssl: one('probe_http_ssl'),
    probe_tls_version: tls ? (/version="([^"]*)"/.exec(tls.labels)?.[1] ?? null) : null,
    chain_info: rows.find((r) => r.name === 'probe_ssl_last_chain_info')?.labels ?? null,
  };
}

/** Runs the comparison; returns one row per case. Needs the Debian blackbox exporter binary. */
export async function compareWithBlackbox(): Promise<ComparisonRow[]> {
  if (!existsSync(BLACKBOX_EXPORTER_BIN))
    throw new Error(
      `${BLACKBOX_EXPORTER_BIN} is not installed (apt-get install prometheus-blackbox-exporter)`,
    );
  const certs = new CertFactory();
  const servers: TestServer[] = [];
  let exporter: ChildServer | undefined;
  try {
    const now = Math.floor(Date.now() / 1000) * 1000;
    const ca = certs.ca('Irin Compare CA', 90);
    const good = certs.leaf(
      'compare-good',
      ca,
      'IP:127.0.0.1,DNS:localhost',
      new Date(now - 86_400_000),
      new Date(now + 30 * 86_400_000),
    );
    const expired = certs.leaf(
      'compare-expired',
      ca,
      'IP:127.0.0.1',
      new Date(now - 20 * 86_400_000),
      new Date(now - 2 * 86_400_000),
    );
    const selfSigned = certs.selfSigned('localhost', 45);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.url === '/error') res.writeHead(500).end('error');
      else if (req.url === '/moved') res.writeHead(302, { location: '/' }).end();
      else res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the comparison target');
    };
    const goodSrv = await startServer(handler, good);
    const expiredSrv = await startServer(handler, expired);
    const selfSrv = await startServer(handler, selfSigned);
    servers.push(goodSrv, expiredSrv, selfSrv);

    const config = join(certs.dir, 'blackbox.yml');
    writeFileSync(
      config,
      [
        'modules:',
        '  verify:',
        '    prober: http',
        '    timeout: 5s',
        '    http:',
        '      preferred_ip_protocol: ip4',
        '      tls_config:',
        `        ca_file: ${join(certs.dir, 'Irin Compare CA.crt')}`,
        '  insecure:',
        '    prober: http',
        '    timeout: 5s',
        '    http:',
        '      preferred_ip_protocol: ip4',
        '      tls_config:',
        '        insecure_skip_verify: true',
        '',
      ].join('\n'),
    );
    const port = await freePort();
    exporter = await ChildServer.start(
      'blackbox exporter',
      BLACKBOX_EXPORTER_BIN,
      [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`],
      port,
      '/-/healthy',
      { timeoutMs: 15_000 },
    );

    const policy = createAddressPolicy({ allow: ['127.0.0.0/8'] });
    const extraCa = [new X509Certificate(ca.cert)];
    const cases: { name: string; url: string; verify: boolean }[] = [
      { name: 'CA-signed, verified', url: `${goodSrv.url}/`, verify: true },
      { name: 'CA-signed, 302 followed', url: `${goodSrv.url}/moved`, verify: true },
      { name: 'CA-signed, status 500', url: `${goodSrv.url}/error`, verify: true },
      { name: 'expired, verified', url: `${expiredSrv.url}/`, verify: true },
      { name: 'expired, not verified', url: `${expiredSrv.url}/`, verify: false },
      { name: 'self-signed, not verified', url: `${selfSrv.url}/`, verify: false },
    ];
    const rows: ComparisonRow[] = [];
    for (const c of cases) {
      const module = c.verify ? 'verify' : 'insecure';
      const res = await fetch(`${exporter.url}/probe?module=${module}&target=${encodeURIComponent(c.url)}`);
      const blackbox = fromExposition(await res.text());
      const outcome = await probeHttp(probeSpec(c.url, { tlsVerify: c.verify }), { policy, extraCa });
      const series = outcomeSeries({ tenantSlug: 'compare', url: c.url, name: c.name }, outcome);
      const text = series
        .map((s) => {
          const name = s.labels.find((l) => l.name === '__name__')?.value ?? '';
          const labels = s.labels
            .filter((l) => l.name !== '__name__')
            .map((l) => `${l.name}=${JSON.stringify(l.value)}`);
          return `${name}{${labels.join(',')}} ${s.samples[0]!.v}`;
        })
        .join('\n');
      const irin = fromExposition(text);
      rows.push({
        case: c.name,
        target: c.url,
        blackbox,
        irin,
        irinReason: outcome.reason ? `${outcome.reason.code}: ${outcome.reason.detail}` : null,
      });
    }
    return rows;
  } finally {
    await exporter?.stop();
    for (const s of servers) await s.close();
    certs.cleanup();
  }
}

/** The values that must agree between the two probers. */
export const AGREEING = [
  'probe_success',
  'probe_http_status_code',
  'probe_ssl_earliest_cert_expiry',
  'probe_http_redirects',
  'probe_http_ssl',
  'probe_tls_version',
] as const;

export function formatRows(rows: readonly ComparisonRow[]): string {
  const lines: string[] = [];
  const show = (v: number | string | null, metric: string): string => {
    if (v === null) return '(absent)';
    if (typeof v === 'number' && metric.includes('expiry') && v > 1e9)
      return `${v} (${new Date(v * 1000).toISOString()})`;
    return String(v);
  };
  for (const r of rows) {
    lines.push(`== ${r.case}  ${r.target}`);
    for (const m of [...METRICS, 'probe_tls_version'] as const) {
      const a = show(r.blackbox[m], m);
      const b = show(r.irin[m], m);
      lines.push(`   ${m.padEnd(46)} blackbox=${a.padEnd(36)} irin=${b}${a === b ? '' : '   <- differs'}`);
    }
    if (r.blackbox.chain_info || r.irin.chain_info) {
      lines.push(`   probe_ssl_last_chain_info blackbox: ${r.blackbox.chain_info ?? '(absent)'}`);
      lines.push(`   probe_ssl_last_chain_info irin:     ${r.irin.chain_info ?? '(absent)'}`);
    }
    if (r.irinReason) lines.push(`   irin reason: ${r.irinReason}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  compareWithBlackbox().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
