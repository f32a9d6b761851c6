import type { Command } from 'commander';
import {
  createTenant,
  decommissionTenant,
  listTenants,
  setTenantStatus,
  showTenant,
  updateTenant,
} from '../../tenancy/services/tenants.ts';
import type { Tenant } from '../../tenancy/store.ts';
import { act, collect, common, UsageError, type CliIo } from '../context.ts';
import { details, table } from '../output.ts';

/**
 * `--limit max_series=50000`, `--limit retention=30d` (or the TenantLimits spelling, `maxSeries`);
 * names and values are checked by the tenant service.
 */
export function parseLimitFlags(values: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--limit takes name=value (e.g. max_series=50000), got "${v}"`);
    out[v.slice(0, eq).trim()] = v.slice(eq + 1).trim();
  }
  return out;
}

const TENANT_COLUMNS = [
  ['id', 'id'],
  ['slug', 'slug'],
  ['displayName', 'name'],
  ['status', 'status'],
  ['createdAt', 'created'],
] as const;

function tenantText(t: Tenant): string {
  return details([
    ['id', t.id],
    ['slug', t.slug],
    ['name', t.displayName],
    ['status', t.status],
    ['limit overrides', Object.keys(t.limitOverrides).length ? t.limitOverrides : 'none (platform defaults)'],
    ['created', t.createdAt],
    ['updated', t.updatedAt],
    ...(t.decommissionedAt
      ? ([
          ['decommissioned', t.decommissionedAt],
          ['storage removed', t.storageRemovedAt ?? 'pending'],
        ] as const)
      : []),
  ]);
}

export function registerTenantCommands(program: Command, io: CliIo): void {
  const tenant = program.command('tenant').description('Manage tenants (client organisations)');

  common(tenant.command('create <slug>'))
    .description('Create a tenant. The slug (e.g. acme-inc) is its permanent name and tenant label value')
    .option('--name <display name>', 'display name (default: the slug)')
    .option('--limit <name=value>', 'per-tenant limit override, repeatable', collect)
    .action(
      act(io, async (ctx, [slug]: [string], f) => {
        const t = await createTenant(ctx, {
          slug,
          ...(f.name !== undefined ? { displayName: f.name as string } : {}),
          limits: parseLimitFlags(f.limit as string[] | undefined),
        });
        return { json: t, text: `Tenant ${t.slug} created (id ${t.id}).` };
      }),
    );

  common(tenant.command('list'))
    .description('List tenants')
    .option('--status <status>', 'only tenants with this status: active, suspended or decommissioned')
    .action(
      act(io, async (ctx, _args: [], f) => {
        const list = await listTenants(ctx, f.status !== undefined ? { status: f.status as string } : {});
        return { json: list, text: table(list, TENANT_COLUMNS) };
      }),
    );

  common(tenant.command('show <slug>'))
    .description('Show a tenant with its effective limits and object counts')
    .action(
      act(io, async (ctx, [slug]: [string]) => {
        const d = await showTenant(ctx, slug);
        const text = [
          tenantText(d.tenant),
          details([
            ['servers', d.servers],
            ['active push tokens', d.activePushTokens],
            ['active API keys', d.activeReadKeys],
            ['members', d.members],
            ['endpoints', d.endpoints],
          ]),
          'effective limits:',
          ...Object.entries(d.effectiveLimits).map(
            ([k, v]) => `  ${k} = ${v}${k in d.tenant.limitOverrides ? ' (override)' : ''}`,
          ),
        ].join('\n');
        return { json: d, text };
      }),
    );

  common(tenant.command('update <slug>'))
    .description("Change a tenant's display name or limit overrides")
    .option('--name <display name>', 'new display name')
    .option('--limit <name=value>', 'set a limit override, repeatable', collect)
    .option(
      '--unset-limit <name>',
      'drop a limit override (back to the platform default), repeatable',
      collect,
    )
    .action(
      act(io, async (ctx, [slug]: [string], f) => {
        if (f.name === undefined && f.limit === undefined && f.unsetLimit === undefined) {
          throw new UsageError('nothing to change: give --name, --limit or --unset-limit');
        }
        const t = await updateTenant(ctx, slug, {
          ...(f.name !== undefined ? { displayName: f.name as string } : {}),
          ...(f.limit !== undefined ? { setLimits: parseLimitFlags(f.limit as string[]) } : {}),
          ...(f.unsetLimit !== undefined ? { unsetLimits: f.unsetLimit as string[] } : {}),
        });
        return { json: t, text: tenantText(t) };
      }),
    );

  for (const [verb, status, help] of [
    [
      'suspend',
      'suspended',
      'Suspend a tenant: its pushes and reads are refused (within a second) until resumed',
    ],
    ['resume', 'active', 'Resume a suspended tenant'],
  ] as const) {
    common(tenant.command(`${verb} <slug>`))
      .description(help)
      .action(
        act(io, async (ctx, [slug]: [string]) => {
          const t = await setTenantStatus(ctx, slug, status);
          return { json: t, text: `Tenant ${t.slug} is ${t.status}.` };
        }),
      );
  }

  common(tenant.command('delete <slug>'))
    .description(
      'Decommission a tenant: revoke all its credentials, end its sessions, and have the running server remove its stored data. Irreversible; the slug is never reused',
    )
    .option('--yes', 'confirm: this cannot be undone')
    .action(
      act(io, async (ctx, [slug]: [string], f) => {
        if (!f.yes)
          throw new UsageError(`refusing to decommission "${slug}" without --yes (this cannot be undone)`);
        const r = await decommissionTenant(ctx, slug);
        return {
          json: r,
          text: `Tenant ${slug} decommissioned: ${r.revokedCredentials} credential(s) revoked, ${r.endedSessions} session(s) ended. The server removes its stored data.`,
        };
      }),
    );
}
