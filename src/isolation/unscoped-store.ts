import type { ControlPlaneStore, CredentialScope } from '../tenancy/store.ts';
import { layerOff } from './faults.ts';

/**
 * Fault injection for isolation layer 3 (org scoping in the data-access layer): returns the store
 * unchanged, unless the test suite switched `org-scoping` off before the server started — then a
 * decorator whose every tenant-scoped lookup ignores the tenant id it is given, as if each query
 * had lost its `WHERE tenant_id = ?`: single-object lookups look in the given tenant first and
 * then in every other one, lists return every tenant's rows, and updates and removals act on
 * whichever tenant owns the object. The SQL itself is not touched.
 */
export function withOrgScopingFault(store: ControlPlaneStore): ControlPlaneStore {
  return layerOff('org-scoping') ? unscopedStore(store) : store;
}

function unscopedStore(store: ControlPlaneStore): ControlPlaneStore {
  const tenantIds = async (): Promise<number[]> => (await store.listTenants()).map((t) => t.id);

  /** The first tenant (the asked one first) for which `lookup` finds something. */
  async function anyTenant<T>(asked: number, lookup: (tenantId: number) => Promise<T>): Promise<T> {
    const first = await lookup(asked);
    if (first !== undefined && first !== false) return first;
    for (const id of await tenantIds()) {
      if (id === asked) continue;
      const found = await lookup(id);
      if (found !== undefined && found !== false) return found;
    }
    return first;
  }

  async function everyTenant<T>(list: (tenantId: number) => Promise<T[]>): Promise<T[]> {
    const out: T[] = [];
    for (const id of await tenantIds()) out.push(...(await list(id)));
    return out;
  }

  const tenantScope = (scope: CredentialScope, tenantId: number): CredentialScope =>
    scope.kind === 'admin' ? scope : { kind: scope.kind, tenantId };

  const overrides: Partial<ControlPlaneStore> = {
    getServerByName: (t, name) => anyTenant(t, (id) => store.getServerByName(id, name)),
    getServer: (t, serverId) => anyTenant(t, (id) => store.getServer(id, serverId)),
    listServers: () => everyTenant((id) => store.listServers(id)),
    removeServer: (t, serverId, by) => anyTenant(t, (id) => store.removeServer(id, serverId, by)),
    listCredentials: (scope) =>
      scope.kind === 'admin'
        ? store.listCredentials(scope)
        : everyTenant((id) => store.listCredentials(tenantScope(scope, id))),
    getCredential: (scope, clientId) =>
      scope.kind === 'admin'
        ? store.getCredential(scope, clientId)
        : anyTenant(scope.tenantId, (id) => store.getCredential(tenantScope(scope, id), clientId)),
    revokeCredential: (scope, clientId, by) =>
      scope.kind === 'admin'
        ? store.revokeCredential(scope, clientId, by)
        : anyTenant(scope.tenantId, (id) => store.revokeCredential(tenantScope(scope, id), clientId, by)),
    rotateCredential: (scope, clientId, rotation, by) =>
      scope.kind === 'admin'
        ? store.rotateCredential(scope, clientId, rotation, by)
        : anyTenant(scope.tenantId, (id) =>
            store.rotateCredential(tenantScope(scope, id), clientId, rotation, by),
          ),
    getMembership: (t, userId) => anyTenant(t, (id) => store.getMembership(id, userId)),
    listTenantMembers: () => everyTenant((id) => store.listTenantMembers(id)),
    getEndpointByName: (t, name) => anyTenant(t, (id) => store.getEndpointByName(id, name)),
    listEndpoints: () => everyTenant((id) => store.listEndpoints(id)),
    updateEndpoint: (t, endpointId, input, by) =>
      anyTenant(t, (id) => store.updateEndpoint(id, endpointId, input, by)),
    removeEndpoint: (t, endpointId, by) => anyTenant(t, (id) => store.removeEndpoint(id, endpointId, by)),
    listEndpointsForProbing: () => everyTenant((id) => store.listEndpointsForProbing(id)),
    listPushRejections: (_t, filter) => everyTenant((id) => store.listPushRejections(id, filter)),
    listAudit: (_t, query) => everyTenant((id) => store.listAudit(id, query)),
  };

  return new Proxy(store, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && prop in overrides) return overrides[prop as keyof ControlPlaneStore];
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
