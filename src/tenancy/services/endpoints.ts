import { buildEndpointInput, validateEndpointName, type EndpointFields } from '../endpoint-rules.ts';
import { NotFoundError } from '../errors.ts';
import type { Endpoint, EndpointInput } from '../store.ts';
import { requireLiveTenant, requireTenant, type ServiceContext } from './context.ts';

export async function addEndpoint(
  ctx: ServiceContext,
  tenantSlug: string,
  fields: EndpointFields,
): Promise<Endpoint> {
  const tenant = await requireLiveTenant(ctx, tenantSlug);
  return ctx.store.createEndpoint(tenant.id, buildEndpointInput(fields), ctx.by);
}

export async function listEndpoints(ctx: ServiceContext, tenantSlug: string): Promise<Endpoint[]> {
  const tenant = await requireTenant(ctx, tenantSlug);
  return ctx.store.listEndpoints(tenant.id);
}

export async function showEndpoint(ctx: ServiceContext, tenantSlug: string, name: string): Promise<Endpoint> {
  const tenant = await requireTenant(ctx, tenantSlug);
  const endpoint = await ctx.store.getEndpointByName(tenant.id, validateEndpointName(name));
  if (!endpoint) throw new NotFoundError(`endpoint "${name}" not found in tenant "${tenantSlug}"`);
  return endpoint;
}

/** Changes the given settings and keeps the rest; secret header values are kept unless replaced. */
export async function updateEndpoint(
  ctx: ServiceContext,
  tenantSlug: string,
  name: string,
  patch: EndpointFields,
): Promise<Endpoint> {
  const current = await showEndpoint(ctx, tenantSlug, name);
  const currentInput: EndpointInput = {
    ...current,
    // Secret values are not readable here; leaving them out tells the store to keep them.
    headers: current.headers.map((h) =>
      h.secret ? { name: h.name, secret: true } : { name: h.name, value: h.value ?? '', secret: false },
    ),
  };
  const updated = await ctx.store.updateEndpoint(
    current.tenantId,
    current.id,
    buildEndpointInput(patch, currentInput),
    ctx.by,
  );
  if (!updated) throw new NotFoundError(`endpoint "${name}" not found in tenant "${tenantSlug}"`);
  return updated;
}

export async function removeEndpoint(
  ctx: ServiceContext,
  tenantSlug: string,
  name: string,
): Promise<Endpoint> {
  const endpoint = await showEndpoint(ctx, tenantSlug, name);
  if (!(await ctx.store.removeEndpoint(endpoint.tenantId, endpoint.id, ctx.by))) {
    throw new NotFoundError(`endpoint "${name}" not found in tenant "${tenantSlug}"`);
  }
  return endpoint;
}
