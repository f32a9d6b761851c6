import { ValidationError } from './errors.ts';
import { BUILTIN_DEFAULT_LIMITS, type TenantLimits } from './limits.ts';

/** Naming rules of the control plane. Each message states the rule, for CLI and API errors alike. */

export const SLUG_RULE =
  'a tenant slug is 1-63 characters of lowercase letters, digits and dashes, starting and ending with a letter or digit (e.g. acme-inc)';
const SLUG_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export const SERVER_NAME_RULE =
  'a server instance name is 1-128 characters: a letter or digit, then letters, digits, ".", "_", ":" or "-" (e.g. acme-svr01)';
const SERVER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export const DISPLAY_NAME_RULE = 'a display name is 1-200 characters with no control characters';
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS_RE = /[\u0000-\u001f\u007f]/;

export const EMAIL_RULE = 'an email address looks like name@example.com (at most 254 characters)';
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const CREDENTIAL_NAME_RULE = 'a credential name is 0-100 characters with no control characters';

export function validateSlug(slug: string): string {
  if (slug.length > 63 || !SLUG_RE.test(slug))
    throw new ValidationError(`invalid slug "${clip(slug)}": ${SLUG_RULE}`);
  return slug;
}

export function validateServerName(name: string): string {
  if (!SERVER_NAME_RE.test(name))
    throw new ValidationError(`invalid server name "${clip(name)}": ${SERVER_NAME_RULE}`);
  return name;
}

export function validateDisplayName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200 || CONTROL_CHARS_RE.test(trimmed)) {
    throw new ValidationError(`invalid display name: ${DISPLAY_NAME_RULE}`);
  }
  return trimmed;
}

export function validateCredentialName(name: string | undefined): string {
  const trimmed = (name ?? '').trim();
  if (trimmed.length > 100 || CONTROL_CHARS_RE.test(trimmed)) {
    throw new ValidationError(`invalid credential name: ${CREDENTIAL_NAME_RULE}`);
  }
  return trimmed;
}

/** Emails are compared case-insensitively, so they are stored lowercased. */
export function normalizeEmail(email: string): string {
  const e = email.trim().toLowerCase();
  if (e.length > 254 || !EMAIL_RE.test(e))
    throw new ValidationError(`invalid email "${clip(email)}": ${EMAIL_RULE}`);
  return e;
}

export const ROLES = ['viewer', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export function validateRole(role: string): Role {
  if (!(ROLES as readonly string[]).includes(role)) {
    throw new ValidationError(`invalid role "${clip(role)}": the role is one of ${ROLES.join(', ')}`);
  }
  return role as Role;
}

const LIMIT_NAMES = Object.keys(BUILTIN_DEFAULT_LIMITS) as (keyof TenantLimits)[];

/** `maxSeries` ← `max_series`, `retentionMs` ← `retention`: the configuration file's spelling. */
const CONFIG_SPELLING = new Map(
  LIMIT_NAMES.map((n) => [n.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/_ms$/, ''), n]),
);

/** Resolves a limit name given either as in TenantLimits or as in the configuration file. */
export function resolveLimitName(name: string): keyof TenantLimits {
  if ((LIMIT_NAMES as string[]).includes(name)) return name as keyof TenantLimits;
  const fromConfig = CONFIG_SPELLING.get(name);
  if (fromConfig) return fromConfig;
  throw new ValidationError(
    `unknown limit "${clip(name)}": limits are ${[...CONFIG_SPELLING.keys()].join(', ')}`,
  );
}

/**
 * Checks per-tenant limit overrides: known names only (either spelling), each a whole number >= 0
 * (limits count items, bytes or milliseconds); the millisecond limits also take a duration such as
 * `30d`. Returns them under their TenantLimits names.
 */
export function validateLimitOverrides(overrides: Record<string, unknown>): Partial<TenantLimits> {
  const out: Partial<TenantLimits> = {};
  for (const [given, raw] of Object.entries(overrides)) {
    const name = resolveLimitName(given);
    const isDuration = name.endsWith('Ms');
    let value = raw;
    if (typeof raw === 'string' && /^\d+$/.test(raw.trim())) value = Number(raw);
    else if (typeof raw === 'string' && isDuration) value = parseDuration(raw);
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new ValidationError(
        `invalid value for limit ${given}: a whole number >= 0${isDuration ? ' (milliseconds) or a duration such as 30d' : ''}`,
      );
    }
    out[name] = value;
  }
  return out;
}

export function limitNames(): readonly (keyof TenantLimits)[] {
  return LIMIT_NAMES;
}

/** Echoes user input in messages without letting a huge value flood the terminal or a log. */
export function clip(value: string, max = 80): string {
  const s = String(value);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

export const DURATION_RULE = 'a duration is a whole number followed by s, m, h or d (e.g. 90d, 12h, 30m)';
const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `90d`, `12h`, `30m`, `45s` (or a bare number of seconds) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) throw new ValidationError(`invalid duration "${clip(text)}": ${DURATION_RULE}`);
  return Number(m[1]) * DURATION_UNITS[m[2] || 's']!;
}

/** Parses an ISO-8601 time into its canonical form. */
export function parseTime(text: string, what: string): string {
  const ms = Date.parse(text);
  if (Number.isNaN(ms) || !/^\d{4}-\d{2}-\d{2}/.test(text)) {
    throw new ValidationError(
      `invalid ${what} "${clip(text)}": expected an ISO-8601 time such as 2030-01-31T12:00:00Z`,
    );
  }
  return new Date(ms).toISOString();
}
