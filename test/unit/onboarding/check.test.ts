import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Command } from 'commander';
import { CredentialError } from '../../../src/auth/request-auth.ts';
import type { CliIo } from '../../../src/cli/context.ts';
import { labelsFromRecord, type Labels } from '../../../src/model/labels.ts';
import { matchesAll, type Matcher } from '../../../src/model/matchers.ts';
import { staleNaN } from '../../../src/model/samples.ts';
import { checkServer, formatServerCheck } from '../../../src/onboarding/check.ts';
import {
  fetchServerCheck,
  serverCheckApiRoutes,
  ServerCheckRequestError,
} from '../../../src/onboarding/check-api.ts';
import { registerOnboardingCommands } from '../../../src/onboarding/cli.ts';
import { generatePrometheusAgentConfig } from '../../../src/onboarding/prometheus-agent.ts';
import { revokeCredential } from '../../../src/tenancy/services/credentials.ts';
import { addServer } from '../../../src/tenancy/services/servers.ts';
import { createTenant } from '../../../src/tenancy/services/tenants.ts';
import type { Querier, SeriesData } from '../../../src/tsdb/types.ts';
import { openTestPlane, tempDir } from '../tenancy/fixtures.ts';

const NOW = Date.parse('2030-01-01T12:00:00Z');
const iso = (msAgo: number) => new Date(NOW - msAgo).toISOString();

type Sample = [t: number, v: number | 'stale'];

/**
 * An in-memory Querier over fixed series (the real TSDB is covered by the integration test).
 * Stale markers are given as 'stale' and written straight into the Float64Array: a NaN kept in a
 * plain JS array loses its payload (V8 canonicalises NaNs in double arrays).
 */
class FixedQuerier implements Querier {
  constructor(private readonly series: { labels: Labels; samples: Sample[] }[]) {}
  select(matchers: readonly Matcher[], mint: number, maxt: number): SeriesData[] {
    return this.series
      .filter((s) => matchesAll(s.labels, matchers))
      .map((s) => {
        const inRange = s.samples.filter(([t]) => t >= mint && t <= maxt);
        const values = new Float64Array(inRange.length);
        inRange.forEach(([, v], i) => (values[i] = v === 'stale' ? staleNaN() : v));
        return { labels: s.labels, timestamps: Float64Array.from(inRange.map(([t]) => t)), values };
      })
      .filter((s) => s.timestamps.length > 0);
  }
  labelNames(): string[] {
    return [];
  }
  labelValues(): string[] {
    return [];
  }
}

const series = (record: Record<string, string>, samples: Sample[]) => ({
  labels: labelsFromRecord(record),
  samples,
});

async function setup() {
  const plane = await openTestPlane({ now: () => NOW });
  const tenant = await createTenant(plane.ctx, { slug: 'acme' });
  const { server, token } = await addServer(plane.ctx, 'acme', { name: 'web-1' });
  return { plane, tenant, server, token };
}

test('check: never used, then receiving — series, metrics and the newest real sample of this instance only', async () => {
  const { plane, tenant, token } = await setup();
  try {
    const base = {
      store: plane.store,
      tenantId: tenant.id,
      serverName: 'web-1',
      tenantLabel: 'tenant',
      now: NOW,
    };
    const never = await checkServer(base);
    assert.equal(never.status, 'never_seen');
    assert.equal(never.data, null);
    assert.deepEqual(
      never.tokens.map((t) => [t.clientId, t.state]),
      [[token.credential.clientId, 'active']],
    );

    await plane.store.recordCredentialUse([
      { clientId: token.credential.clientId, at: iso(5_000), addr: '192.0.2.7' },
    ]);
    const querier = new FixedQuerier([
      series({ __name__: 'node_load1', tenant: 'acme', instance: 'web-1', job: 'node' }, [
        [NOW - 20_000, 1],
        [NOW - 10_000, 1],
      ]),
      // A stale marker is not "a sample arrived".
      series({ __name__: 'node_cpu_seconds_total', tenant: 'acme', instance: 'web-1', cpu: '0' }, [
        [NOW - 8_000, 5],
        [NOW - 3_000, 'stale'],
      ]),
      series({ __name__: 'node_cpu_seconds_total', tenant: 'acme', instance: 'web-1', cpu: '1' }, [
        [NOW - 9_000, 5],
      ]),
      series({ __name__: 'node_load1', tenant: 'acme', instance: 'web-2' }, [[NOW - 1_000, 1]]),
      series({ __name__: 'node_load1', tenant: 'other', instance: 'web-1' }, [[NOW - 1_000, 1]]),
      series({ __name__: 'node_load5', tenant: 'acme', instance: 'web-1' }, [[NOW - 20 * 60_000, 1]]),
    ]);
    const ok = await checkServer({ ...base, querier });
    assert.equal(ok.status, 'receiving');
    assert.deepEqual(ok.data, { windowSeconds: 900, series: 3, metrics: 2, newestSampleAt: iso(8_000) });
    assert.equal(ok.lastSeenAt, iso(5_000));
    assert.equal(ok.lastSeenAddr, '192.0.2.7');
    assert.match(ok.summary, /^receiving: 3 series in the last 15 min, newest sample 8 s ago$/);

    const text = formatServerCheck(ok, 'acme');
    assert.match(text, /^Server web-1 of tenant acme: RECEIVING/);
    assert.match(text, /series \(15 min\) {2}3 across 2 metrics/);
    assert.match(text, /last seen +2030-01-01T11:59:55\.000Z \(5 s ago\) from 192\.0\.2\.7/);
  } finally {
    await plane.cleanup();
  }
});

test('check: a revoked token shows as rejected with the reason; stale and partial refusals read as such', async () => {
  const { plane, tenant, server, token } = await setup();
  try {
    const clientId = token.credential.clientId;
    const base = {
      store: plane.store,
      tenantId: tenant.id,
      serverName: 'web-1',
      tenantLabel: 'tenant',
      now: NOW,
    };
    const fresh = new FixedQuerier([
      series({ __name__: 'up', tenant: 'acme', instance: 'web-1' }, [[NOW - 4_000, 1]]),
    ]);
    await plane.store.recordCredentialUse([{ clientId, at: iso(4_000), addr: '192.0.2.7' }]);

    // Some samples refused (400) while data still arrives: receiving, with the refusal noted.
    await plane.store.recordPushRejection(tenant.id, {
      serverId: server.id,
      status: 400,
      reason: 'out of order sample',
      at: iso(3_000),
    });
    const partly = await checkServer({ ...base, querier: fresh });
    assert.equal(partly.status, 'receiving');
    assert.match(partly.summary, /some data was refused 3 s ago: 400 out of order sample/);

    // The token is revoked and the next pushes fail: rejected, even though the last sample is recent.
    await revokeCredential(plane.ctx, 'push', 'acme', clientId);
    await plane.store.recordPushRejection(tenant.id, {
      serverId: server.id,
      clientId,
      status: 401,
      reason: 'token revoked',
      sourceAddr: '192.0.2.7',
      at: iso(1_000),
    });
    for (const querier of [fresh, undefined]) {
      const r = await checkServer({ ...base, ...(querier ? { querier } : {}) });
      assert.equal(r.status, 'rejected');
      assert.equal(r.summary, 'pushes are refused: the latest, 1 s ago, got 401 token revoked');
      assert.deepEqual(
        r.rejections.map((x) => [x.status, x.reason]),
        [
          [401, 'token revoked'],
          [400, 'out of order sample'],
        ],
      );
      assert.equal(r.tokens[0]!.state, 'revoked');
      assert.match(
        formatServerCheck(r, 'acme'),
        /401 {2}token revoked {2}token irin_push_\w+ {2}from 192\.0\.2\.7/,
      );
    }

    // Much later, with no data in the window and no active token.
    const later = await checkServer({ ...base, now: NOW + 3_600_000, querier: new FixedQuerier([]) });
    assert.equal(later.status, 'rejected', 'nothing succeeded since the refusal');
    const { token: second } = await addServer(plane.ctx, 'acme', { name: 'web-2' });
    await plane.store.recordCredentialUse([
      { clientId: second.credential.clientId, at: iso(30 * 60_000), addr: null },
    ]);
    const stale = await checkServer({
      ...base,
      serverName: 'web-2',
      querier: new FixedQuerier([
        series({ __name__: 'up', tenant: 'acme', instance: 'web-2' }, [[NOW - 10 * 60_000, 1]]),
      ]),
    });
    assert.equal(stale.status, 'stale');
    assert.equal(stale.summary, 'nothing recent: the last sample was 10 min ago');
    const noData = await checkServer({ ...base, serverName: 'web-2', querier: new FixedQuerier([]) });
    assert.equal(noData.status, 'no_data');
    assert.equal(noData.summary, 'no series in the last 15 min; its token was last used 30 min ago');
    await assert.rejects(
      checkServer({ ...base, serverName: 'nope' }),
      /server "nope" not found in tenant "acme"/,
    );
  } finally {
    await plane.cleanup();
  }
});

test('check API: admin key required, answers the check with series counts; fetchServerCheck reports errors by message', async () => {
  const { plane, tenant } = await setup();
  const app = Fastify();
  try {
    await app.register(serverCheckApiRoutes, {
      store: plane.store,
      authenticator: {
        async authenticateAdmin(request) {
          if (request.headers.authorization !== 'Bearer irin_admin_key.ok')
            throw new CredentialError(401, 'invalid credentials');
          return { kind: 'admin', clientId: 'irin_admin_key', actor: 'admin-key:irin_admin_key' };
        },
      },
      querierFor: async (id) => {
        assert.equal(id, tenant.id);
        return new FixedQuerier([
          series({ __name__: 'up', tenant: 'acme', instance: 'web-1' }, [[NOW - 2_000, 1]]),
        ]);
      },
      tenantLabel: 'tenant',
      now: () => NOW,
    });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const check = await fetchServerCheck({
      url,
      adminKey: 'irin_admin_key.ok',
      tenant: 'acme',
      server: 'web-1',
      windowMinutes: 5,
    });
    assert.equal(check.status, 'receiving');
    assert.deepEqual(check.data, { windowSeconds: 300, series: 1, metrics: 1, newestSampleAt: iso(2_000) });

    await assert.rejects(
      fetchServerCheck({ url, adminKey: 'irin_admin_key.bad', tenant: 'acme', server: 'web-1' }),
      (err: unknown) =>
        err instanceof ServerCheckRequestError &&
        err.status === 401 &&
        /answered 401: invalid credentials/.test(err.message),
    );
    await assert.rejects(
      fetchServerCheck({ url, adminKey: 'irin_admin_key.ok', tenant: 'nope', server: 'web-1' }),
      /answered 404: tenant "nope" not found/,
    );
    await assert.rejects(
      fetchServerCheck({ url, adminKey: 'irin_admin_key.ok', tenant: 'acme', server: 'web-9' }),
      /answered 404: server "web-9" not found/,
    );
    const bad = await app.inject({
      url: '/api/admin/v1/tenants/acme/servers/web-1/check?window=0',
      headers: { authorization: 'Bearer irin_admin_key.ok' },
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().error, /window \(minutes\) must be a whole number from 1 to 1440/);
  } finally {
    await app.close();
    await plane.cleanup();
  }
});

function cli(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  return async (args: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      readStdin: async () => '',
      env,
    };
    const program = new Command('irin')
      .exitOverride()
      .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
    registerOnboardingCommands(program.command('server'), io);
    let error: unknown;
    try {
      await program.parseAsync([...args, '--data-dir', dataDir], { from: 'user' });
    } catch (err) {
      error = err;
    }
    return { stdout, stderr, error };
  };
}

test('CLI: server config prints the generated files for the server token; --new-token embeds a fresh secret; check without --url reads the control plane', async () => {
  const dataDir = tempDir();
  const plane = await openTestPlane({ dataDir });
  try {
    await createTenant(plane.ctx, { slug: 'acme' });
    const { token } = await addServer(plane.ctx, 'acme', { name: 'web-1' });
    const run = cli(dataDir);

    const prom = await run([
      'server',
      'config',
      'web-1',
      '-t',
      'acme',
      '--edge-url',
      'https://metrics.example.com',
      '--format',
      'prometheus',
    ]);
    assert.equal(prom.error, undefined, String(prom.error));
    const input = {
      irinUrl: 'https://metrics.example.com',
      tenantSlug: 'acme',
      instance: 'web-1',
      clientId: token.credential.clientId,
    };
    assert.equal(prom.stdout, generatePrometheusAgentConfig(input));

    const all = await run([
      'server',
      'config',
      'web-1',
      '-t',
      'acme',
      '--edge-url',
      'https://metrics.example.com',
      '--new-token',
      '--json',
    ]);
    const out = JSON.parse(all.stdout);
    assert.notEqual(out.clientId, token.credential.clientId);
    assert.equal(out.secretIncluded, true);
    assert.match(out.script, /^embedded_secret='[A-Za-z0-9_-]{43}'$/m);
    assert.match(all.stderr, /issued push token irin_push_\w+; its secret is in this output/);

    const missingUrl = await run(['server', 'config', 'web-1', '-t', 'acme']);
    assert.match(String(missingUrl.error), /give the URL agents push to: --edge-url/);

    const check = await run(['server', 'check', 'web-1', '-t', 'acme']);
    assert.equal(check.error, undefined, String(check.error));
    assert.match(check.stdout, /^Server web-1 of tenant acme: NEVER SEEN/);
    assert.match(
      check.stdout,
      /series +not checked \(give --url and IRIN_ADMIN_KEY to ask the running server\)/,
    );
    const noKey = await cli(dataDir, { IRIN_URL: 'http://127.0.0.1:9' })([
      'server',
      'check',
      'web-1',
      '-t',
      'acme',
    ]);
    assert.match(String(noKey.error), /needs an admin key in IRIN_ADMIN_KEY/);
  } finally {
    await plane.cleanup();
  }
});
