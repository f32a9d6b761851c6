import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import type { CliIo } from '../../../src/cli/context.ts';
import { registerOnboardingCommands } from '../../../src/onboarding/cli.ts';
import {
  generatePrometheusAgentConfig,
  prometheusAgentFlags,
} from '../../../src/onboarding/prometheus-agent.ts';
import { promGet, instantVector, waitFor } from '../../support/http.ts';
import { startTestIrin, type TestIrin } from '../../support/irin.ts';
import { Provisioner, type TenantFixture } from '../../support/provision.ts';
import { HOSTILE_VALUES } from '../../unit/onboarding/hostile.ts';
import { missingBinaries, NODE_EXPORTER_BIN, PROMETHEUS_BIN } from '../../support/binaries.ts';
import { ChildServer, freePort } from '../../support/child-server.ts';

/**
 * Debian's node_exporter and Prometheus (agent mode) configured with exactly the configuration
 * Irin generates — only the addresses (Irin's URL, node_exporter's port, the password file's path)
 * and the intervals (1 s, to keep the test short) are the test's — pushing to a real Irin.
 */

const skip = missingBinaries(PROMETHEUS_BIN, NODE_EXPORTER_BIN);

/** node_exporter's default fs-types-exclude without `overlay`, so a container's root FS is reported too. */
const FS_TYPES_EXCLUDE =
  '^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$';

/** `irin server check` as the CLI runs it (control plane of the data dir, no --url). */
async function serverCheckCli(dataDir: string, tenant: string, server: string): Promise<string> {
  let stdout = '';
  const io: CliIo = { stdout: (s) => (stdout += s), stderr: () => {}, readStdin: async () => '', env: {} };
  const program = new Command('irin').exitOverride();
  registerOnboardingCommands(program.command('server'), io);
  await program.parseAsync(['server', 'check', server, '-t', tenant, '--data-dir', dataDir], {
    from: 'user',
  });
  return stdout;
}

const scalar = async (irin: TestIrin, auth: string, query: string): Promise<number | undefined> => {
  const r = await instantVector(irin.url, auth, query);
  return r.length === 1 ? Number(r[0]!.value[1]) : undefined;
};

describe('Prometheus agent → Irin with the generated configuration', { skip }, () => {
  let irin: TestIrin;
  let prov: Provisioner;
  let acme: TenantFixture;
  let dir: string;
  let nodeExporter: ChildServer;
  const agents: ChildServer[] = [];

  /** Starts Prometheus in agent mode with the configuration generated for these inputs. */
  async function startAgent(
    name: string,
    input: { tenantSlug: string; instance: string; clientId: string; secret: string },
  ): Promise<ChildServer> {
    const passwordFile = join(dir, `${name}.secret`);
    writeFileSync(passwordFile, input.secret, { mode: 0o600 });
    const config = generatePrometheusAgentConfig(
      { irinUrl: irin.url, tenantSlug: input.tenantSlug, instance: input.instance, clientId: input.clientId },
      {
        passwordFile,
        nodeExporterAddress: new URL(nodeExporter.url).host,
        scrapeInterval: '1s',
        batchSendDeadline: '1s',
      },
    );
    const configFile = join(dir, `${name}.yml`);
    writeFileSync(configFile, config, { mode: 0o600 });
    const port = await freePort();
    const agent = await ChildServer.start(
      `prometheus agent ${name}`,
      PROMETHEUS_BIN,
      [
        ...prometheusAgentFlags(configFile, join(dir, `${name}-data`)),
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      port,
      '/-/ready',
    );
    agents.push(agent);
    return agent;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'irin-agents-'));
    irin = await startTestIrin();
    prov = new Provisioner(irin.dataDir);
    acme = await prov.tenant('acme', ['web-1']);
    const nePort = await freePort();
    nodeExporter = await ChildServer.start(
      'node_exporter',
      NODE_EXPORTER_BIN,
      [
        `--web.listen-address=127.0.0.1:${nePort}`,
        `--collector.filesystem.fs-types-exclude=${FS_TYPES_EXCLUDE}`,
      ],
      nePort,
      '/metrics',
    );
    const token = acme.servers['web-1']!;
    await startAgent('web-1', {
      tenantSlug: 'acme',
      instance: 'web-1',
      clientId: token.clientId,
      secret: token.secret,
    });
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await nodeExporter?.stop();
    await prov?.close();
    await irin?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const agentLogs = () => agents.map((a) => `--- ${a.name}\n${a.log()}`).join('\n');

  test('node metrics arrive under the right tenant and instance, and the System Health queries answer', async () => {
    const up = await waitFor(
      'the first samples from the agent',
      async () => {
        const r = await instantVector(irin.url, acme.readAuth, 'up{job="node"}');
        return r.length > 0 ? r : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => assert.fail(`${err.message}\n${agentLogs()}`));
    assert.deepEqual(
      up.map((s) => s.metric),
      [{ __name__: 'up', instance: 'web-1', job: 'node', tenant: 'acme' }],
    );
    assert.equal(up[0]!.value[1], '1');

    const groups = await instantVector(
      irin.url,
      acme.readAuth,
      'count by (tenant, instance, job) ({__name__=~"node_.+"})',
    );
    assert.deepEqual(
      groups.map((g) => g.metric),
      [{ instance: 'web-1', job: 'node', tenant: 'acme' }],
    );
    assert.ok(Number(groups[0]!.value[1]) > 100, `only ${groups[0]!.value[1]} node_* series`);

    // The System Health Overview's queries (shared/reference/dashboards.md), for this server.
    const sel = 'tenant="acme",instance="web-1"';
    const health = {
      cpuBusy: `100 * (1 - avg(rate(node_cpu_seconds_total{${sel},mode="idle"}[5m])))`,
      memoryUsed: `clamp_min((1 - node_memory_MemAvailable_bytes{${sel}} / node_memory_MemTotal_bytes{${sel}}) * 100, 0)`,
      rootFsUsed: `100 * (node_filesystem_size_bytes{${sel},mountpoint="/",fstype!="rootfs"} - node_filesystem_avail_bytes{${sel},mountpoint="/",fstype!="rootfs"}) / node_filesystem_size_bytes{${sel},mountpoint="/",fstype!="rootfs"}`,
    };
    for (const [panel, query] of Object.entries(health)) {
      // rate() needs two scrapes; the others answer as soon as one sample is in.
      const value = await waitFor(panel, () => scalar(irin, acme.readAuth, query), 15_000, 250);
      assert.ok(Number.isFinite(value) && value > -1 && value <= 100.5, `${panel} = ${value}`);
    }

    // The CLI's control-plane check sees the token in use.
    const check = await waitFor(
      'server check to see the token used',
      async () => {
        const out = await serverCheckCli(irin.dataDir, 'acme', 'web-1');
        return out.includes(': PUSHING') ? out : undefined;
      },
      15_000,
      500,
    );
    assert.match(check, /last seen +\S+ \(\d+ s ago\) from 127\.0\.0\.1/);
    assert.match(check, /Recent rejected pushes:\n {2}\(none\)/);
  });

  test('hostile instance names survive YAML, Prometheus relabelling and the push exactly (tenant-wide token: Irin keeps the instance)', async () => {
    const globex = await prov.tenant('globex', []);
    const hostile = HOSTILE_VALUES.join('');
    await startAgent('hostile', {
      tenantSlug: 'globex',
      instance: hostile,
      clientId: globex.push.clientId,
      secret: globex.push.secret,
    });
    const values = await waitFor(
      'samples from the hostile agent',
      async () => {
        const r = await promGet<string[]>(irin.url, 'label/instance/values', globex.readAuth);
        return r.body.status === 'success' && r.body.data.length > 0 ? r.body.data : undefined;
      },
      30_000,
      250,
    ).catch((err: Error) => assert.fail(`${err.message}\n${agentLogs()}`));
    assert.deepEqual(values, [hostile]);
    const tenants = await promGet<string[]>(irin.url, 'label/tenant/values', globex.readAuth);
    assert.deepEqual(tenants.body.data, ['globex']);
  });

  test('revoking the token stops the data within seconds, and server check shows the rejections', async () => {
    const token = acme.servers['web-1']!;
    const latestSample = () => scalar(irin, acme.readAuth, 'timestamp(up{job="node",instance="web-1"})');
    await waitFor(
      'fresh data before revoking',
      async () => ((await latestSample()) ?? 0) * 1000 > Date.now() - 3000 || undefined,
      10_000,
      250,
    );

    const revokedAt = Date.now();
    await prov.revoke('push', 'acme', token.clientId);

    const check = await waitFor(
      'server check to show the rejection',
      async () => {
        const out = await serverCheckCli(irin.dataDir, 'acme', 'web-1');
        return out.includes(': REJECTED') ? out : undefined;
      },
      15_000,
      250,
    ).catch((err: Error) => assert.fail(`${err.message}\n${agentLogs()}`));
    assert.match(check, /pushes are refused: the latest, \d+ s ago, got 401 token revoked/);
    assert.match(
      check,
      new RegExp(`401 {2}token revoked {2}token ${token.clientId} {2}from 127\\.0\\.0\\.1`),
    );
    assert.match(check, new RegExp(`${token.clientId} {2}revoked`));

    // Let a few more scrapes and batches go by: nothing newer is stored.
    await new Promise((r) => setTimeout(r, 3000));
    const last = (await latestSample())! * 1000;
    assert.ok(
      last <= revokedAt + 1000,
      `a sample from ${last - revokedAt} ms after the revocation was stored`,
    );
    assert.ok(last >= revokedAt - 3000, 'data was flowing until the revocation');
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal((await latestSample())! * 1000, last, 'data kept arriving after the revocation');
  });
});
