import type { Command } from 'commander';
import { addServer, checkServer, listServers, removeServer } from '../../tenancy/services/servers.ts';
import { act, common, type CliIo } from '../context.ts';
import { details, secretBlock, table } from '../output.ts';
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

  common(server.command('check <name>'))
    .description('Show when a server last pushed, its tokens, and why recent pushes were refused')
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .option('--limit <n>', 'how many recent rejections to show', '20')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        const r = await checkServer(ctx, f.tenant as string, name, Number(f.limit));
        const text = [
          details([
            ['server', r.server.name],
            ['last seen', r.server.lastSeenAt ?? 'never'],
            ['from', r.server.lastSeenAddr],
          ]),
          'tokens:',
          table(r.tokens, [
            ['clientId', 'client id'],
            ['state', 'state'],
            ['expiresAt', 'expires'],
            ['lastUsedAt', 'last used'],
          ]),
          'recent rejections:',
          table(r.recentRejections, [
            ['at', 'time'],
            ['status', 'status'],
            ['reason', 'reason'],
            ['sourceAddr', 'from'],
          ]),
        ].join('\n');
        return { json: r, text };
      }),
    );
}
