import { z } from 'zod';
import { ValidationError } from '../../tenancy/errors.ts';

/**
 * Request-body shapes of the admin API: types only. The rules (slug pattern, limits, URL, …) live
 * in the services, so the CLI and the API enforce the same ones with the same messages.
 */

const expiry = {
  expiresAt: z.string().optional(),
  expiresIn: z.string().optional(),
};

export const createTenantBody = z.strictObject({
  slug: z.string(),
  displayName: z.string().optional(),
  limits: z.record(z.string(), z.unknown()).optional(),
});

export const updateTenantBody = z.strictObject({
  displayName: z.string().optional(),
  setLimits: z.record(z.string(), z.unknown()).optional(),
  unsetLimits: z.array(z.string()).optional(),
});

export const addServerBody = z.strictObject({
  name: z.string(),
  tokenName: z.string().optional(),
  ...expiry,
});

export const createCredentialBody = z.strictObject({
  name: z.string().optional(),
  server: z.string().optional(),
  ...expiry,
});

export const rotateBody = z.strictObject({ grace: z.string().optional() }).optional();

export const createUserBody = z.strictObject({
  email: z.string(),
  displayName: z.string().optional(),
  password: z.string().optional(),
  platformAdmin: z.boolean().optional(),
});

export const addMembershipBody = z.strictObject({ tenant: z.string(), role: z.string().default('viewer') });
export const setRoleBody = z.strictObject({ role: z.string() });
export const passwordBody = z.strictObject({ password: z.string().optional() }).optional();
export const platformAdminBody = z.strictObject({ platformAdmin: z.boolean() });
export const confirmMfaBody = z.strictObject({ code: z.string() });

const header = z.strictObject({
  name: z.string(),
  value: z.string().optional(),
  secret: z.boolean().optional(),
});

const endpointFields = {
  url: z.string().optional(),
  method: z.string().optional(),
  intervalSeconds: z.number().optional(),
  timeoutSeconds: z.number().optional(),
  expectedStatus: z.array(z.number()).optional(),
  bodyMatch: z
    .strictObject({ kind: z.string(), pattern: z.string(), negate: z.boolean().optional() })
    .nullable()
    .optional(),
  tlsVerify: z.boolean().optional(),
  followRedirects: z.boolean().optional(),
  headers: z.array(header).optional(),
  enabled: z.boolean().optional(),
};

export const createEndpointBody = z.strictObject({ name: z.string(), ...endpointFields, url: z.string() });
export const updateEndpointBody = z.strictObject({ name: z.string().optional(), ...endpointFields });

export const auditQuery = z.strictObject({
  tenant: z.string().optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  action: z.string().optional(),
  limit: z.coerce.number().int().optional(),
});

export const listQuery = z.strictObject({
  all: z.enum(['true', 'false']).optional(),
  status: z.string().optional(),
});

/** Parses a body or query; a mismatch is a 400 naming each field and what was wrong. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    const where = i.path.length ? i.path.join('.') : what;
    return i.code === 'unrecognized_keys'
      ? `${where}: unknown field(s) ${i.keys.join(', ')}`
      : `${where}: ${i.message}`;
  });
  throw new ValidationError(`invalid ${what}: ${problems.join('; ')}`);
}

/** Drops undefined properties (the services distinguish "absent" from "set"). */
export function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]: Exclude<T[K], undefined>;
  };
}
