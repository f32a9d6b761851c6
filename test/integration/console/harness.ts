import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { rmSync } from 'node:fs';
import { currentTotp } from '../../../src/auth/totp.ts';
import { consoleRoutes, type ConsoleDeps } from '../../../src/console/index.ts';
import { openControlPlane, type ControlPlane } from '../../../src/tenancy/open.ts';
import type { ServiceContext } from '../../../src/tenancy/services/context.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { addUserToOrg, confirmMfa, createUser, enrolMfa } from '../../../src/tenancy/services/users.ts';
import type { UserCredentials } from '../../../src/tenancy/store.ts';
import { tempDir } from '../../support/irin.ts';

/** Fastify with only the console plugin and a real (temporary) SQLite control plane. */
export interface ConsoleHarness {
  readonly app: FastifyInstance;
  readonly plane: ControlPlane;
  readonly services: ServiceContext;
  close(): Promise<void>;
}

export const PASSWORD = 'correct horse battery staple';

export async function startConsoleHarness(deps: Partial<ConsoleDeps> = {}): Promise<ConsoleHarness> {
  const dir = tempDir('irin-console-');
  const plane = openControlPlane({ dataDir: dir });
  await plane.store.ready();
  const app = Fastify({ logger: false });
  await app.register(async (scope) =>
    consoleRoutes(scope, { store: plane.store, hasher: plane.hasher, secure: false, ...deps }),
  );
  await app.ready();
  const services: ServiceContext = {
    store: plane.store,
    hasher: plane.hasher,
    by: { actor: 'system', sourceAddr: null },
  };
  return {
    app,
    plane,
    services,
    async close() {
      await app.close();
      await plane.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Creates a tenant, or returns it; and a user with the given memberships (and MFA when asked). */
export async function seedUser(
  h: ConsoleHarness,
  email: string,
  opts: { orgs?: [string, 'viewer' | 'editor' | 'admin'][]; mfa?: boolean; platformAdmin?: boolean } = {},
): Promise<{ totpSecret?: string; recoveryCodes?: string[] }> {
  await createUser(h.services, { email, password: PASSWORD, platformAdmin: opts.platformAdmin ?? false });
  for (const [slug, role] of opts.orgs ?? []) {
    if (!(await h.plane.store.getTenantBySlug(slug))) await createTenant(h.services, { slug });
    await addUserToOrg(h.services, email, slug, role);
  }
  if (!opts.mfa) return {};
  await enrolMfa(h.services, email);
  const secret = (await totpSecretOf(h, email))!;
  // A code from the previous time step: the sign-in in the test then uses the current one.
  const { recoveryCodes } = await confirmMfa(h.services, email, currentTotp(secret, Date.now() - 30_000));
  return { totpSecret: secret, recoveryCodes };
}

export async function totpSecretOf(h: ConsoleHarness, email: string): Promise<string | null> {
  const user = await h.plane.store.getUserByEmail(email);
  const creds: UserCredentials | undefined = user && (await h.plane.store.getUserCredentials(user.id));
  return creds?.totpSecret ?? null;
}

/** A browser-like client over inject: keeps the session cookie and sends the CSRF header. */
export class Client {
  cookie: string | undefined;
  csrf: string | undefined;
  constructor(readonly h: ConsoleHarness) {}

  async call(method: string, url: string, payload?: unknown, headers: Record<string, string> = {}) {
    const res = await this.h.app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(this.cookie ? { cookie: `irin_session=${this.cookie}` } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(payload !== undefined ? { payload: JSON.stringify(payload) } : {}),
    });
    const set = res.headers['set-cookie'];
    const line = Array.isArray(set) ? set[0] : set;
    const m = line && /^irin_session=([^;]*)/.exec(line);
    if (m) this.cookie = m[1] || undefined;
    return res;
  }

  // Test bodies are navigated freely; a wrong path fails the assertion that reads it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(res: LightMyRequestResponse): any {
    return JSON.parse(res.body);
  }

  /** Signs in (with a TOTP code when a secret is given); keeps the CSRF token. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async signIn(email: string, totpSecret?: string): Promise<any> {
    const body: Record<string, string> = { email, password: PASSWORD };
    if (totpSecret) body.code = currentTotp(totpSecret);
    const res = await this.call('POST', '/api/console/sign-in', body);
    const out = this.json(res);
    if (res.statusCode !== 200 || out.status !== 'signed-in')
      throw new Error(`sign-in failed: ${res.statusCode} ${res.body}`);
    this.csrf = out.me.csrfToken;
    return out.me;
  }
}
