import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRequestAuthenticator } from '../../../src/auth/authenticator.ts';
import type { CredentialError } from '../../../src/auth/request-auth.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import { openTestPlane, tempDir } from '../../unit/tenancy/fixtures.ts';
import { bearer, fakeRequest } from '../../unit/auth/helpers.ts';

const BIN = fileURLToPath(new URL('../../../bin/irin.mjs', import.meta.url));

function irin(args: string[]): Promise<{ code: number; stdout: string; stderr: string; exitedAt: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, exitedAt: Date.now() }));
  });
}

test('a revocation and a suspension made by the CLI in another process apply within 1 s', async () => {
  const dir = tempDir();
  const p = await openTestPlane({ dataDir: dir });
  const auth = createRequestAuthenticator(p.store, { hasher: p.hasher });
  try {
    await createTenant(p.ctx, { slug: 'acme' });
    await createTenant(p.ctx, { slug: 'beta' });
    const acme = await addServer(p.ctx, 'acme', { name: 'svr01' });
    const beta = await addServer(p.ctx, 'beta', { name: 'svr01' });

    /** Authenticates every 20 ms while `action` runs; returns when the first refusal was seen. */
    async function watchRefusal(token: string, action: () => ReturnType<typeof irin>) {
      await auth.authenticatePush(fakeRequest('127.0.0.1', bearer(token))); // cached from here on
      let refusedAt: number | undefined;
      let refusal: CredentialError | undefined;
      const poller = (async () => {
        const deadline = Date.now() + 60_000;
        while (refusedAt === undefined && Date.now() < deadline) {
          try {
            await auth.authenticatePush(fakeRequest('127.0.0.1', bearer(token)));
          } catch (err) {
            refusedAt = Date.now();
            refusal = err as CredentialError;
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const run = await action();
      assert.equal(run.code, 0, run.stderr);
      await poller;
      assert.ok(refusedAt !== undefined, 'the change was never seen');
      assert.ok(refusedAt - run.exitedAt <= 1000, `seen ${refusedAt - run.exitedAt} ms after the CLI exited`);
      return refusal!;
    }

    const revoked = await watchRefusal(acme.token.token, () =>
      irin(['token', 'revoke', acme.token.credential.clientId, '-t', 'acme', '--data-dir', dir]),
    );
    assert.equal(revoked.status, 401);
    assert.match(revoked.message, /revoked/);

    const suspended = await watchRefusal(beta.token.token, () =>
      irin(['tenant', 'suspend', 'beta', '--data-dir', dir]),
    );
    assert.equal(suspended.status, 401);
    assert.match(suspended.message, /suspended/);

    const listed = await irin(['tenant', 'list', '--json', '--data-dir', dir]);
    assert.deepEqual(
      (JSON.parse(listed.stdout) as { slug: string; status: string }[]).map((t) => [t.slug, t.status]),
      [
        ['acme', 'active'],
        ['beta', 'suspended'],
      ],
    );
  } finally {
    await auth.close();
    await p.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the spawned CLI reports errors with a message and a non-zero exit code', async () => {
  const dir = tempDir();
  try {
    const r = await irin(['tenant', 'create', 'NOPE', '--data-dir', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^irin: invalid slug "NOPE": a tenant slug is/m);
    const help = await irin(['token', 'create', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--expires-in/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
