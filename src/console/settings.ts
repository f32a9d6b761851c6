import type { IssuedCredential } from '../tenancy/services/credentials.ts';

/**
 * The ready-to-paste settings shown once with a new credential: where to push or read, and the
 * same secret in each form an agent or Grafana accepts. Paths are the ecosystem's: remote write
 * at /api/v1/write, Loki push at /loki/api/v1/push, and the read APIs under /prometheus and /loki.
 */

export const REMOTE_WRITE_PATH = '/api/v1/write';
export const LOKI_PUSH_PATH = '/loki/api/v1/push';
export const PROMETHEUS_READ_PREFIX = '/prometheus';
export const LOKI_READ_PREFIX = '/loki';

export interface PushSettings {
  remoteWriteUrl: string;
  lokiPushUrl: string;
  clientId: string;
  secret: string;
  /** `Authorization: Bearer` value. */
  bearerToken: string;
  /** Cloudflare Access style headers (what agents configured for the seed setup send). */
  headers: Record<string, string>;
  /** Grafana Alloy configuration (metrics and logs), basic auth. */
  alloyConfig: string;
  /** Prometheus (agent mode) remote_write block. */
  prometheusConfig: string;
  /** Where the instance label comes from: pinned by the server for a server-bound token. */
  instance: string | null;
}

export function pushSettings(baseUrl: string, issued: IssuedCredential): PushSettings {
  const remoteWriteUrl = baseUrl + REMOTE_WRITE_PATH;
  const lokiPushUrl = baseUrl + LOKI_PUSH_PATH;
  const { clientId } = issued.credential;
  const instance = issued.credential.serverName;
  const basicAuth = (indent: string) =>
    [
      `${indent}basic_auth {`,
      `${indent}  username = "${clientId}"`,
      `${indent}  password = "${issued.secret}"`,
      `${indent}}`,
    ].join('\n');
  const alloyConfig = [
    'prometheus.exporter.unix "node" { }',
    '',
    'prometheus.scrape "node" {',
    '  targets         = prometheus.exporter.unix.node.targets',
    '  forward_to      = [prometheus.remote_write.irin.receiver]',
    '  scrape_interval = "15s"',
    '}',
    '',
    'prometheus.remote_write "irin" {',
    '  endpoint {',
    `    url = "${remoteWriteUrl}"`,
    basicAuth('    '),
    '  }',
    '}',
    '',
    'loki.write "irin" {',
    '  endpoint {',
    `    url = "${lokiPushUrl}"`,
    basicAuth('    '),
    '  }',
    '}',
  ].join('\n');
  const prometheusConfig = [
    'remote_write:',
    `  - url: ${remoteWriteUrl}`,
    '    basic_auth:',
    `      username: ${clientId}`,
    `      password: ${issued.secret}`,
  ].join('\n');
  return {
    remoteWriteUrl,
    lokiPushUrl,
    clientId,
    secret: issued.secret,
    bearerToken: issued.token,
    headers: { 'CF-Access-Client-Id': clientId, 'CF-Access-Client-Secret': issued.secret },
    alloyConfig,
    prometheusConfig,
    instance,
  };
}

export interface GrafanaSettings {
  prometheusUrl: string;
  lokiUrl: string;
  /** Basic authentication: user = client id, password = secret. */
  basicAuthUser: string;
  basicAuthPassword: string;
  /** Or a custom HTTP header. */
  headerName: string;
  headerValue: string;
  /** A provisioning file for both data sources. */
  provisioning: string;
}

export function grafanaSettings(baseUrl: string, issued: IssuedCredential, orgSlug: string): GrafanaSettings {
  const prometheusUrl = baseUrl + PROMETHEUS_READ_PREFIX;
  const lokiUrl = baseUrl + LOKI_READ_PREFIX;
  const { clientId } = issued.credential;
  const source = (name: string, type: string, url: string) => [
    `  - name: ${name}`,
    `    type: ${type}`,
    '    access: proxy',
    `    url: ${url}`,
    '    basicAuth: true',
    `    basicAuthUser: ${clientId}`,
    '    secureJsonData:',
    `      basicAuthPassword: ${issued.secret}`,
  ];
  const provisioning = [
    'apiVersion: 1',
    'datasources:',
    ...source(`Irin metrics (${orgSlug})`, 'prometheus', prometheusUrl),
    ...source(`Irin logs (${orgSlug})`, 'loki', lokiUrl),
  ].join('\n');
  return {
    prometheusUrl,
    lokiUrl,
    basicAuthUser: clientId,
    basicAuthPassword: issued.secret,
    headerName: 'Authorization',
    headerValue: `Bearer ${issued.token}`,
    provisioning,
  };
}
