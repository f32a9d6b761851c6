import type { Command } from 'commander';
import { queryAudit } from '../../tenancy/services/audit.ts';
import { act, common, parseIntFlag, type CliIo } from '../context.ts';
import { table } from '../output.ts';

export function registerAuditCommand(program: Command, io: CliIo): void {
  common(program.command('audit'))
    .description("Show the audit log (newest first): one tenant's, or platform-wide")
    .option('-t, --tenant <slug>', "only this tenant's entries")
    .option('--since <time>', 'from this ISO time, or this long ago (e.g. 24h)')
    .option('--until <time>', 'before this ISO time, or this long ago')
    .option('--action <action>', 'only this action; a trailing * matches a prefix (e.g. "token.*")')
    .option('--limit <n>', 'at most this many entries (1-10000)', '100')
    .action(
      act(io, async (ctx, _a: [], f) => {
        const entries = await queryAudit(ctx, {
          ...(f.tenant !== undefined ? { tenant: f.tenant as string } : {}),
          ...(f.since !== undefined ? { since: f.since as string } : {}),
          ...(f.until !== undefined ? { until: f.until as string } : {}),
          ...(f.action !== undefined ? { action: f.action as string } : {}),
          limit: parseIntFlag(f.limit as string, '--limit')!,
        });
        return {
          json: entries,
          text: table(entries, [
            ['at', 'time'],
            ['actor', 'actor'],
            ['action', 'action'],
            ['tenantId', 'tenant'],
            ['target', 'target'],
            ['sourceAddr', 'from'],
            ['details', 'details'],
          ]),
        };
      }),
    );
}
