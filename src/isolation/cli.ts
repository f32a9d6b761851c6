import type { Command } from 'commander';
import { UsageError, type CliIo } from '../cli/context.ts';

/**
 * Registers `irin verify-isolation` (src/isolation/verify.ts). The probes and their clients are
 * loaded only when the command runs, so other commands start as fast as before.
 * Exit codes: 0 every probe contained and the canaries removed; 1 a breach, a probe that could not
 * run, or a canary left behind; 2 bad usage.
 */
export function registerVerifyIsolationCommand(program: Command, io: CliIo): void {
  program
    .command('verify-isolation')
    .description(
      'Run the cross-tenant attack probes against a live Irin: creates canary tenants (irin-canary-*) through the ' +
        'admin API, pushes canary data, probes every read/write path as one canary against the other, prints ' +
        'pass/fail per probe and decommissions the canaries. Exits 1 on any breach.',
    )
    .option('--url <url>', 'base URL of the Irin server (default: IRIN_URL or http://127.0.0.1:9470)')
    .option(
      '--admin-key <key>',
      'platform admin key "<client id>.<secret>" (default: IRIN_ADMIN_KEY; prefer the variable, as arguments show in ps)',
    )
    .option('--tenant-label <name>', 'the tenant label of the deployment (tenancy.tenant_label)', 'tenant')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { url?: string; adminKey?: string; tenantLabel: string; json?: boolean }) => {
      const url = (flags.url ?? io.env.IRIN_URL ?? 'http://127.0.0.1:9470').replace(/\/+$/, '');
      if (!/^https?:\/\/[^/]+/.test(url))
        throw new UsageError(`--url must be an http(s) URL, not ${JSON.stringify(url)}`);
      const adminKey = (flags.adminKey ?? io.env.IRIN_ADMIN_KEY ?? '').replace(/^Bearer\s+/i, '');
      if (!adminKey)
        throw new UsageError(
          'verify-isolation needs a platform admin key: --admin-key or IRIN_ADMIN_KEY (irin admin-key create)',
        );
      const { parseAdminKey } = await import('./admin-client.ts');
      try {
        parseAdminKey(adminKey);
      } catch (err) {
        throw new UsageError((err as Error).message);
      }
      const { verifyIsolation, VerifyFailed } = await import('./verify.ts');
      const print = flags.json ? undefined : (line: string) => io.stdout(`${line}\n`);
      const report = await verifyIsolation({
        url,
        adminKey,
        tenantLabel: flags.tenantLabel,
        ...(print ? { print } : {}),
      });
      if (flags.json) {
        io.stdout(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const counted = (s: string) => report.results.filter((r) => r.status === s).length;
        io.stdout(
          `\n${report.ok ? 'ISOLATION VERIFIED' : 'ISOLATION NOT VERIFIED'}: ${counted('contained')} contained, ` +
            `${report.breaches} breached, ${report.errors} could not run, ${counted('n/a')} skipped ` +
            `(canaries ${report.canaries.join(', ')} ${report.cleanupProblems.length ? 'NOT all removed' : 'decommissioned'})\n`,
        );
      }
      if (!report.ok) throw new VerifyFailed(report);
    });
}
