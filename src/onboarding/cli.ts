import type { Command } from 'commander';
import { act, common, UsageError, type CliIo, type CliResult } from '../cli/context.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { NotFoundError, ValidationError } from '../tenancy/errors.ts';
import { createCredential } from '../tenancy/services/credentials.ts';
import { requireTenant, type ServiceContext } from '../tenancy/services/context.ts';
import { validateServerName } from '../tenancy/validation.ts';
import { generateAlloyConfig } from './alloy.ts';
import { checkServer, formatServerCheck, type ServerCheck } from './check.ts';
import { fetchServerCheck } from './check-api.ts';
import { generateInstallScript } from './install-script.ts';
import { generatePrometheusAgentConfig } from './prometheus-agent.ts';
import type { AuthStyle, OnboardingInput } from './target.ts';

/**
 * The onboarding subcommands of `irin server`:
 *   irin server config <name> --tenant <slug> --edge-url <url> [--format …] [--new-token]
 *   irin server check  <name> --tenant <slug> [--url <irin url>]      (IRIN_ADMIN_KEY for --url)
 * Hook them in with `registerOnboardingCommands(serverCommand, io)`, where `serverCommand` is the
 * `server` command of src/cli/commands/server.ts (its own `check` is replaced by this one).
 */
export function registerOnboardingCommands(server: Command, io: CliIo): void {
  registerServerConfigCommand(server, io);
  registerServerCheckCommand(server, io);
}

const FORMATS = ['all', 'alloy', 'prometheus', 'script'] as const;
type Format = (typeof FORMATS)[number];

function tenantLabelFrom(flags: Record<string, unknown>, env: NodeJS.ProcessEnv): string {
  try {
    return loadConfig({ ...(typeof flags.config === 'string' ? { file: flags.config } : {}), env }).tenancy
      .tenant_label;
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/** The push token the configuration is written for: a new one, the one named, or the newest active one. */
async function tokenFor(
  ctx: ServiceContext,
  tenantSlug: string,
  serverName: string,
  flags: Record<string, unknown>,
): Promise<{ clientId: string; secret?: string }> {
  if (flags.newToken) {
    const issued = await createCredential(ctx, 'push', tenantSlug, { server: serverName });
    return { clientId: issued.credential.clientId, secret: issued.secret };
  }
  const tenant = await requireTenant(ctx, tenantSlug);
  const server = await ctx.store.getServerByName(tenant.id, validateServerName(serverName));
  if (!server) throw new NotFoundError(`server "${serverName}" not found in tenant "${tenantSlug}"`);
  const now = (ctx.now ?? Date.now)();
  const active = (await ctx.store.listCredentials({ kind: 'push', tenantId: tenant.id }))
    .filter(
      (c) =>
        c.serverId === server.id &&
        c.revokedAt === null &&
        (c.expiresAt === null || Date.parse(c.expiresAt) > now),
    )
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));
  const wanted =
    typeof flags.clientId === 'string' ? active.find((c) => c.clientId === flags.clientId) : active[0];
  if (!wanted) {
    throw new NotFoundError(
      typeof flags.clientId === 'string'
        ? `no active push token ${flags.clientId} is bound to server "${serverName}"`
        : `no active push token is bound to server "${serverName}": add --new-token to issue one`,
    );
  }
  return { clientId: wanted.clientId };
}

function registerServerConfigCommand(server: Command, io: CliIo): void {
  common(server.command('config <name>'))
    .description(
      'Print the agent configuration for a server: Grafana Alloy, Prometheus agent mode, and a Debian/Ubuntu install script. ' +
        'The secret is only known when issued, so it is left to the environment / a placeholder unless --new-token issues one.',
    )
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .option('--edge-url <url>', 'the Irin edge URL agents push to (default: IRIN_PUBLIC_URL)')
    .option('--format <format>', `what to print: ${FORMATS.join(', ')}`, 'all')
    .option('--new-token', 'issue a new server-bound push token and write its secret into the output')
    .option(
      '--client-id <id>',
      'write the configuration for this push token (default: the newest active one)',
    )
    .option(
      '--auth <style>',
      'how the agent sends the token: basic or cf-access (CF-Access-Client-Id/-Secret headers)',
      'basic',
    )
    .action(
      act(io, async (ctx, [name]: [string], f): Promise<CliResult> => {
        const format = f.format as Format;
        if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
        const irinUrl = (f.edgeUrl as string | undefined) ?? io.env.IRIN_PUBLIC_URL;
        if (!irinUrl)
          throw new UsageError(
            'give the URL agents push to: --edge-url https://metrics.example.com (or IRIN_PUBLIC_URL)',
          );
        const authStyle = f.auth as AuthStyle;
        if (authStyle !== 'basic' && authStyle !== 'cf-access')
          throw new UsageError('--auth must be basic or cf-access');
        const tenantSlug = f.tenant as string;
        const token = await tokenFor(ctx, tenantSlug, name, f);
        const input: OnboardingInput = {
          irinUrl,
          tenantSlug,
          tenantLabel: tenantLabelFrom(f, io.env),
          instance: validateServerName(name),
          clientId: token.clientId,
          authStyle,
          ...(token.secret === undefined ? {} : { secret: token.secret }),
        };
        const files = {
          alloy: generateAlloyConfig(input),
          prometheus: generatePrometheusAgentConfig(input),
          script: authStyle === 'basic' ? generateInstallScript(input) : null,
        };
        if (format === 'script' && files.script === null) {
          throw new ValidationError('the install script uses basic auth; drop --auth cf-access to print it');
        }
        if (token.secret !== undefined)
          io.stderr(
            `irin: issued push token ${token.clientId}; its secret is in this output and cannot be shown again\n`,
          );
        const text =
          format === 'all'
            ? [
                `# ---- Grafana Alloy: /etc/alloy/config.alloy`,
                files.alloy,
                `# ---- Prometheus agent mode: /etc/prometheus/irin-agent.yml`,
                files.prometheus,
                ...(files.script === null
                  ? []
                  : [`# ---- Install script (Debian/Ubuntu): install-irin-agent.sh`, files.script]),
              ].join('\n')
            : files[format]!;
        return {
          json: { clientId: token.clientId, secretIncluded: token.secret !== undefined, ...files },
          text: text.replace(/\n$/, ''),
        };
      }),
    );
}

function registerServerCheckCommand(server: Command, io: CliIo): void {
  const viaControlPlane = act(io, async (ctx, [name]: [string], f): Promise<CliResult> => {
    const tenant = await requireTenant(ctx, f.tenant as string);
    const check = await checkServer({
      store: ctx.store,
      tenantId: tenant.id,
      serverName: validateServerName(name),
      tenantLabel: tenantLabelFrom(f, io.env),
      ...(f.limit === undefined ? {} : { rejectionLimit: positive(f.limit, '--limit') }),
    });
    return { json: check, text: formatServerCheck(check, tenant.slug) };
  });

  common(server.command('check <name>'))
    .description(
      'Is data from this server arriving? Last seen, series in the last minutes, newest sample, and why pushes were refused. ' +
        'Series counts come from the running server (--url, with IRIN_ADMIN_KEY); without it only the control plane is read.',
    )
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .option('--url <url>', 'base URL of the running Irin server to ask for series counts (default: IRIN_URL)')
    .option('--window <minutes>', 'count series with samples in this many recent minutes (with --url)', '15')
    .option('--limit <n>', 'how many recent rejected pushes to show', '10')
    .action(async (...raw: unknown[]) => {
      const command = raw[raw.length - 1] as Command;
      const f = command.opts() as Record<string, unknown>;
      const url = (f.url as string | undefined) ?? io.env.IRIN_URL;
      if (url === undefined) return viaControlPlane(...raw);
      const adminKey = io.env.IRIN_ADMIN_KEY;
      if (!adminKey)
        throw new UsageError(
          'asking a running server needs an admin key in IRIN_ADMIN_KEY (irin admin-key create)',
        );
      const [name] = raw as [string];
      const check: ServerCheck = await fetchServerCheck({
        url,
        adminKey,
        tenant: f.tenant as string,
        server: name,
        windowMinutes: positive(f.window, '--window'),
        limit: positive(f.limit, '--limit'),
      });
      io.stdout(
        f.json ? `${JSON.stringify(check, null, 2)}\n` : `${formatServerCheck(check, f.tenant as string)}\n`,
      );
    });
}

function positive(value: unknown, flag: string): number {
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < 1)
    throw new UsageError(`${flag} must be a positive whole number`);
  return n;
}
