import { generateAlloyConfig } from '../onboarding/alloy.ts';
import { generateInstallScript } from '../onboarding/install-script.ts';
import { generatePrometheusAgentConfig } from '../onboarding/prometheus-agent.ts';
import { LOKI_PUSH_PATH, REMOTE_WRITE_PATH, type OnboardingInput } from '../onboarding/target.ts';
import type { IssuedCredential } from '../tenancy/services/credentials.ts';

/**
 * The ready-to-paste settings shown once with a new credential: where to push or read, and the
 * same secret in each form an agent or Grafana accepts. Paths are the ecosystem's: remote write
 * at /api/v1/write, Loki push at /loki/api/v1/push, and the read APIs under /prometheus and /loki.
 */

export const PROMETHEUS_READ_PREFIX = '/prometheus';

export interface PushSettings {
  remoteWriteUrl: string;
  lokiPushUrl: string;
  clientId: string;
  secret: string;
  /** `Authorization: Bearer` value. */
  bearerToken: string;
  /** Cloudflare Access style headers (what agents configured for the seed setup send). */
  headers: Record<string, string>;
  /**
   * Agent configuration and install script (src/onboarding), with the secret written in. Only for
   * server-bound tokens: the generators pin the server's instance name.
   */
  alloyConfig: string | null;
  prometheusConfig: string | null;
  installScript: string | null;
  /** The instance label pinned by the server for a server-bound token. */
  instance: string | null;
}

export function pushSettings(
  baseUrl: string,
  issued: IssuedCredential,
  org: { slug: string; tenantLabel: string },
): PushSettings {
  const { clientId, serverName: instance } = issued.credential;
  const input: OnboardingInput | undefined =
    instance === null
      ? undefined
      : {
          irinUrl: baseUrl,
          tenantSlug: org.slug,
          tenantLabel: org.tenantLabel,
          instance,
          clientId,
          secret: issued.secret,
        };
  return {
    remoteWriteUrl: baseUrl + REMOTE_WRITE_PATH,
    lokiPushUrl: baseUrl + LOKI_PUSH_PATH,
    clientId,
    secret: issued.secret,
    bearerToken: issued.token,
    headers: { 'CF-Access-Client-Id': clientId, 'CF-Access-Client-Secret': issued.secret },
    alloyConfig: input ? generateAlloyConfig(input, { secretSource: 'inline' }) : null,
    prometheusConfig: input ? generatePrometheusAgentConfig(input) : null,
    installScript: input ? generateInstallScript(input) : null,
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
  // Grafana's Loki data source appends /loki/api/v1/… itself: it is given the bare base URL.
  const lokiUrl = baseUrl;
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
