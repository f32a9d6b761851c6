/**
 * Last line of defence for "the audit log never holds a secret": callers only pass ids, names and
 * settings, and any detail whose key names a secret-bearing field is replaced before it is stored.
 */
const SECRET_KEY_RE = /secret|password|passwd|totp|seed|recovery|hash|cookie|session|bearer|authorization/i;

export function sanitizeAuditDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!details) return {};
  return scrub(details) as Record<string, unknown>;
}

function scrub(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrub);
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY_RE.test(k) ? '[redacted]' : scrub(v);
    return out;
  }
  if (Buffer.isBuffer(value)) return '[redacted]';
  return value;
}
