import type { Command } from 'commander';
import {
  createCredential,
  DEFAULT_ROTATION_GRACE,
  listCredentials,
  revokeCredential,
  rotateCredential,
  type ExpiryInput,
} from '../../tenancy/services/credentials.ts';
import type { CredentialKind } from '../../tenancy/store.ts';
import { act, common, type CliIo } from '../context.ts';
import { secretBlock, table } from '../output.ts';

export function expiryOptions(cmd: Command): Command {
  return cmd
    .option('--expires-in <duration>', 'expire after this long, e.g. 90d, 12h')
    .option('--expires-at <time>', 'expire at this ISO-8601 time');
}

export function expiryFlags(f: Record<string, unknown>): ExpiryInput {
  return {
    ...(f.expiresIn !== undefined ? { expiresIn: f.expiresIn as string } : {}),
    ...(f.expiresAt !== undefined ? { expiresAt: f.expiresAt as string } : {}),
  };
}

interface KindSpec {
  command: string;
  noun: string;
  kind: CredentialKind;
  description: string;
}

const SPECS: KindSpec[] = [
  {
    command: 'token',
    noun: 'Push token',
    kind: 'push',
    description: 'Manage push tokens (tenant-wide or bound to a server)',
  },
  {
    command: 'apikey',
    noun: 'API key',
    kind: 'read',
    description: 'Manage read API keys (org-scoped, role viewer: Grafana, scripts)',
  },
  {
    command: 'admin-key',
    noun: 'Admin key',
    kind: 'admin',
    description: 'Manage platform admin keys (credentials of the admin HTTP API)',
  },
];

/** token / apikey / admin-key: one implementation, three credential kinds. */
export function registerCredentialCommands(program: Command, io: CliIo): void {
  for (const spec of SPECS) {
    const group = program.command(spec.command).description(spec.description);
    const tenanted = spec.kind !== 'admin';
    const withTenant = (cmd: Command) =>
      tenanted ? cmd.requiredOption('-t, --tenant <slug>', 'the tenant') : cmd;
    const tenantOf = (f: Record<string, unknown>) => (tenanted ? (f.tenant as string) : undefined);

    const create = expiryOptions(
      withTenant(common(group.command('create')))
        .description(`Create a ${spec.noun.toLowerCase()}; its secret is printed once`)
        .option('--name <name>', 'a label to recognise it by'),
    );
    if (spec.kind === 'push')
      create.option('--server <name>', 'bind the token to this server (pins instance="<name>")');
    create.action(
      act(io, async (ctx, _a: [], f) => {
        const r = await createCredential(ctx, spec.kind, tenantOf(f), {
          ...(f.name !== undefined ? { name: f.name as string } : {}),
          ...(f.server !== undefined ? { server: f.server as string } : {}),
          ...expiryFlags(f),
        });
        return {
          json: r,
          text: secretBlock(spec.noun, { clientId: r.credential.clientId, secret: r.secret, token: r.token }),
        };
      }),
    );

    withTenant(common(group.command('list')))
      .description(`List ${spec.noun.toLowerCase()}s (secrets are never shown)`)
      .option('--all', 'include revoked and expired ones')
      .action(
        act(io, async (ctx, _a: [], f) => {
          const list = await listCredentials(ctx, spec.kind, tenantOf(f), { all: Boolean(f.all) });
          return {
            json: list,
            text: table(list, [
              ['clientId', 'client id'],
              ['name', 'name'],
              ...(spec.kind === 'push' ? ([['serverName', 'server']] as const) : []),
              ['state', 'state'],
              ['expiresAt', 'expires'],
              ['lastUsedAt', 'last used'],
              ['lastUsedAddr', 'from'],
            ]),
          };
        }),
      );

    withTenant(common(group.command('revoke <client-id>')))
      .description(`Revoke a ${spec.noun.toLowerCase()}; a running server refuses it within a second`)
      .action(
        act(io, async (ctx, [clientId]: [string], f) => {
          const c = await revokeCredential(ctx, spec.kind, tenantOf(f), clientId);
          return { json: c, text: `${spec.noun} ${c.clientId} revoked.` };
        }),
      );

    withTenant(common(group.command('rotate <client-id>')))
      .description(
        `Give a ${spec.noun.toLowerCase()} a new secret (printed once); the old one stays valid for the grace period`,
      )
      .option(
        '--grace <duration>',
        `how long the old secret keeps working (0 = not at all)`,
        DEFAULT_ROTATION_GRACE,
      )
      .action(
        act(io, async (ctx, [clientId]: [string], f) => {
          const r = await rotateCredential(ctx, spec.kind, tenantOf(f), clientId, {
            grace: f.grace as string,
          });
          const until = r.previousValidUntil
            ? `The old secret works until ${r.previousValidUntil}.`
            : 'The old secret no longer works.';
          return {
            json: r,
            text: `${secretBlock(`New secret for ${spec.noun.toLowerCase()}`, { clientId: r.credential.clientId, secret: r.secret, token: r.token })}\n${until}`,
          };
        }),
      );
  }
}
