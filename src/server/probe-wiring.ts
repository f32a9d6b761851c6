import type { ControlPlaneStore } from '../tenancy/store.ts';
import type { EndpointSource, ProbeTarget } from '../probe/types.ts';
import type { EndpointInfo } from '../probe/api.ts';

/** The prober's view of the control plane: every active tenant's enabled endpoints. */
export function endpointSourceFromStore(store: ControlPlaneStore): EndpointSource {
  return {
    async listEnabledEndpoints(): Promise<ProbeTarget[]> {
      const targets: ProbeTarget[] = [];
      for (const tenant of await store.listTenants({ status: 'active' })) {
        for (const e of await store.listEndpointsForProbing(tenant.id)) {
          targets.push({
            id: e.id,
            tenantId: tenant.id,
            tenantSlug: tenant.slug,
            name: e.name,
            url: e.url,
            method: e.method,
            intervalSeconds: e.intervalSeconds,
            timeoutSeconds: e.timeoutSeconds,
            expectedStatus: e.expectedStatus,
            bodyMatch: e.bodyMatch,
            tlsVerify: e.tlsVerify,
            followRedirects: e.followRedirects,
            headers: e.headers.map((h) => ({ name: h.name, value: h.value, secret: h.secret })),
          });
        }
      }
      return targets;
    },
  };
}

/** One tenant's endpoints (enabled or not) for the status API. */
export async function endpointInfosFor(store: ControlPlaneStore, tenantId: number): Promise<EndpointInfo[]> {
  return (await store.listEndpoints(tenantId)).map((e) => ({
    id: e.id,
    tenantId: e.tenantId,
    name: e.name,
    url: e.url,
    method: e.method,
    intervalSeconds: e.intervalSeconds,
    timeoutSeconds: e.timeoutSeconds,
    enabled: e.enabled,
  }));
}
