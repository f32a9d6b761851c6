import { openControlPlane } from '../../src/tenancy/open.ts';
import { createCredential, revokeCredential } from '../../src/tenancy/services/credentials.ts';
import { addServer } from '../../src/tenancy/services/servers.ts';
import { createTenant, setTenantStatus } from '../../src/tenancy/services/tenants.ts';
import type { ServiceContext } from '../../src/tenancy/services/context.ts';
import type { PushCredentials } from '../../src/client/remote-write.ts';

/** Credentials of one provisioned tenant, as a test needs them. */
export interface TenantFixture {
  readonly slug: string;
  /** A server-bound push token per server name. */
  readonly servers: Record<string, { clientId: string; secret: string; basic: PushCredentials }>;
  /** A tenant-wide push token. */
  readonly push: { clientId: string; secret: string; basic: PushCredentials };
  /** A read API key's `Authorization` header value. */
  readonly readAuth: string;
  readonly readClientId: string;
}

/**
 * Talks to a data dir's control plane the way the CLI does (a second SQLite connection beside
 * the running server's), to create tenants and credentials for tests.
 */
export class Provisioner {
  private readonly cp;
  readonly ctx: ServiceContext;

  constructor(dataDir: string) {
    this.cp = openControlPlane({ dataDir });
    this.ctx = { store: this.cp.store, hasher: this.cp.hasher, by: { actor: 'test', sourceAddr: null } };
  }

  async tenant(
    slug: string,
    servers: readonly string[] = ['svr01'],
    limits?: Record<string, unknown>,
  ): Promise<TenantFixture> {
    await createTenant(this.ctx, { slug, ...(limits ? { limits } : {}) });
    const bound: TenantFixture['servers'] = {};
    for (const name of servers) {
      const { token } = await addServer(this.ctx, slug, { name });
      bound[name] = {
        clientId: token.credential.clientId,
        secret: token.secret,
        basic: { kind: 'basic', username: token.credential.clientId, password: token.secret },
      };
    }
    const push = await createCredential(this.ctx, 'push', slug, { name: 'tenant-wide' });
    const read = await createCredential(this.ctx, 'read', slug, { name: 'grafana' });
    return {
      slug,
      servers: bound,
      push: {
        clientId: push.credential.clientId,
        secret: push.secret,
        basic: { kind: 'basic', username: push.credential.clientId, password: push.secret },
      },
      readAuth: `Bearer ${read.token}`,
      readClientId: read.credential.clientId,
    };
  }

  revoke(kind: 'push' | 'read', slug: string, clientId: string) {
    return revokeCredential(this.ctx, kind, slug, clientId);
  }

  suspend(slug: string) {
    return setTenantStatus(this.ctx, slug, 'suspended');
  }

  close(): Promise<void> {
    return this.cp.store.close();
  }
}
