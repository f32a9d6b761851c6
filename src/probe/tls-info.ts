/**
 * Certificate facts of a TLS connection, with blackbox_exporter's semantics:
 * - earliest expiry: the earliest NotAfter over the certificates the server presented;
 * - last chain expiry: over every chain that verifies up to a trusted root, the chain's earliest
 *   NotAfter; the latest of those (what a browser effectively depends on);
 * - leaf info: sha256 fingerprint, subject/issuer in Go's `pkix.Name.String()` form, DNS SANs.
 */
import { X509Certificate, createHash } from 'node:crypto';
import tls from 'node:tls';
import type { DetailedPeerCertificate, TLSSocket } from 'node:tls';
import type { TlsFacts } from './types.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Parses OpenSSL's `Mar  1 12:00:00 2030 GMT` (X509Certificate.validTo) into unix seconds. */
export function parseCertTime(text: string): number {
  const m = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4}) GMT$/.exec(text.trim());
  const month = m ? MONTHS.indexOf(m[1]!) : -1;
  if (!m || month < 0) throw new Error(`unrecognised certificate time ${JSON.stringify(text)}`);
  return Date.UTC(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) / 1000;
}

export function certNotAfter(cert: X509Certificate): number {
  return parseCertTime(cert.validTo);
}

/** The chain node's peer certificate as returned by getPeerCertificate(true), walked leaf → root. */
export function presentedChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let node: DetailedPeerCertificate | undefined = peer;
  while (node && node.raw && !seen.has(node.fingerprint256)) {
    seen.add(node.fingerprint256);
    out.push(new X509Certificate(node.raw));
    node = node.issuerCertificate;
  }
  return out;
}

let bundledAnchors: X509Certificate[] | null = null;

/** Node's bundled root store, parsed once. */
function bundledRoots(): X509Certificate[] {
  bundledAnchors ??= tls.rootCertificates.map((pem) => new X509Certificate(pem));
  return bundledAnchors;
}

const fingerprint = (c: X509Certificate): string => c.fingerprint256;

/**
 * Every chain from the leaf through presented intermediates to a trust anchor, each signature
 * checked. Mirrors Go's VerifiedChains closely enough for expiry purposes (validity dates are
 * not re-checked: this only runs after OpenSSL accepted the connection).
 */
export function verifiedChains(
  chain: readonly X509Certificate[],
  extraAnchors: readonly X509Certificate[],
): X509Certificate[][] {
  const leaf = chain[0];
  if (!leaf) return [];
  const anchors = [...extraAnchors, ...bundledRoots()];
  const anchorPrints = new Set(anchors.map(fingerprint));
  const candidates = [...chain.slice(1), ...anchors];
  const out: X509Certificate[][] = [];
  const walk = (path: X509Certificate[]): void => {
    const last = path[path.length - 1]!;
    if (anchorPrints.has(fingerprint(last))) {
      out.push(path);
      return;
    }
    if (path.length >= 10) return;
    const tried = new Set<string>();
    for (const c of candidates) {
      const fp = fingerprint(c);
      if (tried.has(fp) || path.some((p) => fingerprint(p) === fp)) continue;
      tried.add(fp);
      if (last.checkIssued(c) && last.verify(c.publicKey)) walk([...path, c]);
    }
  };
  walk([leaf]);
  return out;
}

const earliest = (certs: readonly X509Certificate[]): number => Math.min(...certs.map(certNotAfter));

// Go's pkix.Name.String() lists the parsed attributes in this order, most specific first.
const NAME_ORDER = ['serialNumber', 'CN', 'OU', 'O', 'postalCode', 'street', 'L', 'ST', 'C'];
const GO_NAMES: Record<string, string> = {
  serialNumber: 'SERIALNUMBER',
  postalCode: 'POSTALCODE',
  street: 'STREET',
};

function escapeDnValue(v: string): string {
  let out = v.replace(/[\\,+"<>;=]/g, (c) => '\\' + c);
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && out.length > 1) out = out.slice(0, -1) + '\\ ';
  return out;
}

/**
 * Renders a certificate name (X509Certificate.subject/issuer: `key=value` lines) like Go's
 * `pkix.Name.String()`: RFC 4514 style, most specific attribute first, e.g. `CN=a,O=b,C=DE`.
 * Attributes Go does not parse into named fields go last, in certificate order.
 */
export function formatDistinguishedName(lines: string): string {
  const attrs: [string, string][] = [];
  for (const line of lines.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) attrs.push([line.slice(0, eq), line.slice(eq + 1)]);
  }
  const parts: string[] = [];
  for (const key of NAME_ORDER) {
    // Go keeps multi-valued attributes in certificate order inside the reversed sequence.
    const values = attrs.filter(([k]) => k === key).map(([, v]) => v);
    for (const v of values.reverse()) parts.push(`${GO_NAMES[key] ?? key}=${escapeDnValue(v)}`);
  }
  for (const [k, v] of attrs) if (!NAME_ORDER.includes(k)) parts.push(`${k}=${escapeDnValue(v)}`);
  return parts.join(',');
}

function dnsNames(cert: X509Certificate): string {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4))
    .join(',');
}

const TLS_VERSIONS: Record<string, string> = {
  TLSv1: 'TLS 1.0',
  'TLSv1.1': 'TLS 1.1',
  'TLSv1.2': 'TLS 1.2',
  'TLSv1.3': 'TLS 1.3',
};

/** Reads the facts off a connected TLS socket (call before it is destroyed). */
export function tlsFacts(socket: TLSSocket, extraAnchors: readonly X509Certificate[]): TlsFacts | null {
  const peer = socket.getPeerCertificate(true);
  if (!peer || !peer.raw) return null;
  const chain = presentedChain(peer);
  const leaf = chain[0]!;
  let lastChainExpiry: number | null = null;
  if (socket.authorized) {
    const chains = verifiedChains(chain, extraAnchors);
    // OpenSSL accepted the chain but it was completed from somewhere we do not see (e.g. the
    // system store under --use-openssl-ca): node's completed chain is the best we have.
    lastChainExpiry = chains.length > 0 ? Math.max(...chains.map(earliest)) : earliest(chain);
  }
  const authError = socket.authorizationError;
  return {
    version: TLS_VERSIONS[socket.getProtocol() ?? ''] ?? 'unknown',
    cipher: socket.getCipher()?.standardName ?? '',
    earliestCertExpiry: earliest(chain),
    lastChainExpiry,
    authorizationError: authError ? String(authError) : null,
    leaf: {
      fingerprintSha256: createHash('sha256').update(leaf.raw).digest('hex'),
      subject: formatDistinguishedName(leaf.subject),
      issuer: formatDistinguishedName(leaf.issuer),
      subjectAlternative: dnsNames(leaf),
      serialNumber: leaf.serialNumber.toLowerCase(),
    },
  };
}

/** Parses PEM bundles (one or more certificates each) into certificates. */
export function parsePemCertificates(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      out.push(new X509Certificate(block));
    }
  }
  return out;
}
