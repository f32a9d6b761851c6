import { isValidLabelName } from '../model/labels.ts';
import { ValidationError } from '../tenancy/errors.ts';
import { assertEncodable } from './escape.ts';

/**
 * How the agent presents its push token. Every Irin edge accepts both; `cf-access` is for edges
 * behind a real Cloudflare Access, which only lets requests with the service-token headers through.
 */
export type AuthStyle = 'basic' | 'cf-access';

/** What every onboarding generator is given: where to push, as whom, under which labels. */
export interface OnboardingInput {
  /** Base URL of the Irin edge as agents reach it, e.g. `https://metrics.example.com`. */
  readonly irinUrl: string;
  readonly tenantSlug: string;
  /** Name of the tenant label (Irin's `tenancy.tenant_label`), `tenant` by default. */
  readonly tenantLabel?: string;
  /** The server's instance name (the `instance` label). */
  readonly instance: string;
  /** The push token's client id (basic-auth username, CF-Access-Client-Id). */
  readonly clientId: string;
  /**
   * The push token's secret. Absent when it is not known (it is shown once, at issue time): the
   * generators then leave it to the environment / a file, or write SECRET_PLACEHOLDER.
   */
  readonly secret?: string;
  readonly authStyle?: AuthStyle;
}

/** Written where a secret belongs but is not known; never a valid secret (Irin secrets are base64url). */
export const SECRET_PLACEHOLDER = '<PUSH-TOKEN-SECRET>';

/** The environment variable Alloy and the install script read the secret from. */
export const SECRET_ENV_VAR = 'IRIN_PUSH_SECRET';

export const REMOTE_WRITE_PATH = '/api/v1/write';
export const LOKI_PUSH_PATH = '/loki/api/v1/push';

/** The validated input with the endpoint URLs worked out. */
export interface OnboardingTarget {
  readonly baseUrl: string;
  readonly remoteWriteUrl: string;
  readonly lokiPushUrl: string;
  readonly tenantSlug: string;
  readonly tenantLabel: string;
  readonly instance: string;
  readonly clientId: string;
  readonly secret: string | undefined;
  readonly authStyle: AuthStyle;
}

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new ValidationError(`${what} is required`);
  assertEncodable(value, what);
  return value;
}

/**
 * The edge's base URL, normalised by WHATWG URL parsing (so what ends up in a file is a URL every
 * agent parses the same way): http or https, no credentials, query or fragment, no trailing slash.
 */
export function normaliseBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(
      `the Irin URL "${raw}" is not an absolute URL (e.g. https://metrics.example.com)`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ValidationError(`the Irin URL must be http or https, got "${url.protocol}"`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError(
      'the Irin URL must not contain credentials; the push token is configured separately',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw new ValidationError(
      'the Irin URL must not have a query string or fragment: it is the base the API paths are appended to',
    );
  }
  return (url.origin + url.pathname).replace(/\/+$/, '');
}

export function resolveTarget(input: OnboardingInput): OnboardingTarget {
  const baseUrl = normaliseBaseUrl(requireText(input.irinUrl, 'the Irin URL'));
  const tenantLabel = input.tenantLabel ?? 'tenant';
  if (!isValidLabelName(tenantLabel) || tenantLabel.startsWith('__')) {
    throw new ValidationError(
      `the tenant label "${tenantLabel}" is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)`,
    );
  }
  if (tenantLabel === 'instance') throw new ValidationError('the tenant label cannot be "instance"');
  const authStyle = input.authStyle ?? 'basic';
  if (authStyle !== 'basic' && authStyle !== 'cf-access') {
    throw new ValidationError(`unknown auth style "${String(authStyle)}": use basic or cf-access`);
  }
  const clientId = requireText(input.clientId, 'the client id');
  if (clientId.includes(':'))
    throw new ValidationError('the client id cannot contain ":" (it is the basic-auth user name)');
  const secret = input.secret === undefined ? undefined : requireText(input.secret, 'the push secret');
  return {
    baseUrl,
    remoteWriteUrl: baseUrl + REMOTE_WRITE_PATH,
    lokiPushUrl: baseUrl + LOKI_PUSH_PATH,
    tenantSlug: requireText(input.tenantSlug, 'the tenant slug'),
    tenantLabel,
    instance: requireText(input.instance, 'the instance name'),
    clientId,
    secret,
    authStyle,
  };
}
