import type { Command } from 'commander';
import { registerOnboardingCommands } from '../../onboarding/cli.ts';
import { addServer, listServers, removeServer } from '../../tenancy/services/servers.ts';
import { act, common, type CliIo } from '../context.ts';
import { secretBlock, table } from '../output.ts';
import { expiryFlags, expiryOptions } from './credentials.ts';

export function registerServerCommands(program: Command, io: CliIo): void {
  const server = program
    .command('server')
    .description("Manage a tenant's servers (each with its own push token)");

  expiryOptions(
    common(server.command('add <name>'))
      .description(
        'Add a server (instance name, e.g. acme-svr01) and issue its server-bound push token, printed once',
      )
      .requiredOption('-t, --tenant <slug>', 'the tenant'),
  ).action(
    act(io, async (ctx, [name]: [string], f) => {
      const r = await addServer(ctx, f.tenant as string, { name, ...expiryFlags(f) });
      return {
        json: r,
        text: [
          `Server ${r.server.name} added to tenant ${f.tenant as string}.`,
          'Everything pushed with this token is labelled instance="' + r.server.name + '".',
          secretBlock('Push token', {
            clientId: r.token.credential.clientId,
            secret: r.token.secret,
            token: r.token.token,
          }),
          `Agent configuration: irin server config ${r.server.name} -t ${f.tenant as string} --edge-url <url>`,
        ].join('\n'),
      };
    }),
  );

  common(server.command('list'))
    .description("List a tenant's servers")
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .action(
      act(io, async (ctx, _a: [], f) => {
        const list = await listServers(ctx, f.tenant as string);
        return {
          json: list,
          text: table(list, [
            ['name', 'name'],
            ['id', 'id'],
            ['lastSeenAt', 'last seen'],
            ['lastSeenAddr', 'from'],
            ['createdAt', 'created'],
          ]),
        };
      }),
    );

  common(server.command('remove <name>'))
    .description('Remove a server; its server-bound push tokens are revoked')
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        const r = await removeServer(ctx, f.tenant as string, name);
        return { json: r, text: `Server ${name} removed; ${r.revokedTokens} token(s) revoked.` };
      }),
    );

  // `server check` (control plane plus, via the running server, the data) and `server config`
  // (agent configuration) belong to onboarding.
  registerOnboardingCommands(server, io);
}
