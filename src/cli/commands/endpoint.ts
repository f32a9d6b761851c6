import type { Command } from 'commander';
import type { EndpointFields } from '../../tenancy/endpoint-rules.ts';
import {
  addEndpoint,
  listEndpoints,
  removeEndpoint,
  showEndpoint,
  updateEndpoint,
} from '../../tenancy/services/endpoints.ts';
import type { Endpoint } from '../../tenancy/store.ts';
import { act, collect, common, parseIntFlag, UsageError, type CliIo } from '../context.ts';
import { details, table } from '../output.ts';

function settingOptions(cmd: Command): Command {
  return cmd
    .option('--method <method>', 'HTTP method (default GET)')
    .option('--interval <seconds>', 'seconds between checks (default 60, at least 10)')
    .option('--timeout <seconds>', 'seconds before a check fails (default 10, at most the interval)')
    .option('--expect-status <codes>', 'accepted status codes, comma-separated (default: any 2xx)')
    .option('--body-keyword <text>', 'the response body must contain this text')
    .option('--body-regex <regex>', 'the response body must match this regular expression')
    .option('--body-negate', 'invert the body check: fail when the body matches')
    .option('--tls-verify', 'verify the TLS certificate (default)')
    .option('--no-tls-verify', 'do not verify the TLS certificate')
    .option('--follow-redirects', 'follow redirects (default)')
    .option('--no-follow-redirects', 'do not follow redirects')
    .option('--header <name: value>', 'request header, repeatable (replaces the list on update)', collect)
    .option(
      '--secret-header <name: value>',
      'header whose value is stored encrypted and never shown, repeatable; "Name: env:VAR" reads the value from $VAR; on update "Name" alone keeps the stored value',
      collect,
    );
}

function parseHeader(
  text: string,
  secret: boolean,
  env: NodeJS.ProcessEnv,
): NonNullable<EndpointFields['headers']>[number] {
  const colon = text.indexOf(':');
  if (colon < 0) {
    if (secret) return { name: text.trim(), secret };
    throw new UsageError(`--header takes "Name: value", got "${text}"`);
  }
  const name = text.slice(0, colon).trim();
  let value = text.slice(colon + 1).trim();
  if (secret && value.startsWith('env:')) {
    const from = env[value.slice(4)];
    if (from === undefined)
      throw new UsageError(`--secret-header ${name}: environment variable ${value.slice(4)} is not set`);
    value = from;
  }
  return { name, value, secret };
}

function fieldsFrom(f: Record<string, unknown>, env: NodeJS.ProcessEnv): EndpointFields {
  if (f.bodyKeyword !== undefined && f.bodyRegex !== undefined)
    throw new UsageError('give --body-keyword or --body-regex, not both');
  const out: EndpointFields = {};
  if (f.url !== undefined) out.url = f.url as string;
  if (f.method !== undefined) out.method = f.method as string;
  if (f.interval !== undefined) out.intervalSeconds = parseIntFlag(f.interval as string, '--interval')!;
  if (f.timeout !== undefined) out.timeoutSeconds = parseIntFlag(f.timeout as string, '--timeout')!;
  if (f.expectStatus !== undefined) {
    out.expectedStatus = (f.expectStatus as string)
      .split(',')
      .filter((s) => s.trim() !== '')
      .map((s) => parseIntFlag(s, '--expect-status')!);
  }
  const pattern = (f.bodyKeyword ?? f.bodyRegex) as string | undefined;
  if (pattern !== undefined) {
    out.bodyMatch = {
      kind: f.bodyKeyword !== undefined ? 'keyword' : 'regex',
      pattern,
      negate: Boolean(f.bodyNegate),
    };
  } else if (f.bodyNegate) {
    throw new UsageError('--body-negate needs --body-keyword or --body-regex');
  }
  if (f.noBodyMatch) out.bodyMatch = null;
  if (f.tlsVerify !== undefined) out.tlsVerify = Boolean(f.tlsVerify);
  if (f.followRedirects !== undefined) out.followRedirects = Boolean(f.followRedirects);
  if (f.header !== undefined || f.secretHeader !== undefined || f.clearHeaders) {
    out.headers = [
      ...((f.header as string[] | undefined) ?? []).map((h) => parseHeader(h, false, env)),
      ...((f.secretHeader as string[] | undefined) ?? []).map((h) => parseHeader(h, true, env)),
    ];
  }
  return out;
}

function endpointText(e: Endpoint): string {
  return details([
    ['name', e.name],
    ['url', e.url],
    ['method', e.method],
    ['enabled', e.enabled],
    ['interval', `${e.intervalSeconds}s`],
    ['timeout', `${e.timeoutSeconds}s`],
    ['expected status', e.expectedStatus.length ? e.expectedStatus : 'any 2xx'],
    [
      'body match',
      e.bodyMatch
        ? `${e.bodyMatch.negate ? 'not ' : ''}${e.bodyMatch.kind} ${JSON.stringify(e.bodyMatch.pattern)}`
        : 'none',
    ],
    ['TLS verify', e.tlsVerify],
    ['follow redirects', e.followRedirects],
    ['headers', e.headers.map((h) => `${h.name}: ${h.secret ? '(secret)' : h.value}`)],
    ['updated', e.updatedAt],
  ]);
}

export function registerEndpointCommands(program: Command, io: CliIo): void {
  const endpoint = program.command('endpoint').description("Manage a tenant's probed website endpoints");

  settingOptions(
    common(endpoint.command('add <name>'))
      .description('Add an endpoint to probe')
      .requiredOption('-t, --tenant <slug>', 'the tenant')
      .requiredOption('--url <url>', 'http:// or https:// URL to check'),
  )
    .option('--disabled', 'add it without probing it yet')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        const e = await addEndpoint(ctx, f.tenant as string, {
          ...fieldsFrom(f, io.env),
          name,
          enabled: !f.disabled,
        });
        return { json: e, text: `Endpoint ${e.name} added.\n${endpointText(e)}` };
      }),
    );

  common(endpoint.command('list'))
    .description("List a tenant's endpoints (secret header values are never shown)")
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .action(
      act(io, async (ctx, _a: [], f) => {
        const list = await listEndpoints(ctx, f.tenant as string);
        return {
          json: list,
          text: table(list, [
            ['name', 'name'],
            ['method', 'method'],
            ['url', 'url'],
            ['intervalSeconds', 'every (s)'],
            ['enabled', 'enabled'],
          ]),
        };
      }),
    );

  common(endpoint.command('show <name>'))
    .description('Show an endpoint')
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        const e = await showEndpoint(ctx, f.tenant as string, name);
        return { json: e, text: endpointText(e) };
      }),
    );

  settingOptions(
    common(endpoint.command('update <name>'))
      .description("Change some of an endpoint's settings; the others stay as they are")
      .requiredOption('-t, --tenant <slug>', 'the tenant')
      .option('--url <url>', 'new URL')
      .option('--rename <new name>', 'new name'),
  )
    .option('--no-body-match', 'remove the body check')
    .option('--clear-headers', 'remove all headers')
    .option('--enable', 'start probing it')
    .option('--disable', 'stop probing it')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        if (f.enable && f.disable) throw new UsageError('give --enable or --disable, not both');
        // commander turns --no-body-match into bodyMatch=false
        const fields = fieldsFrom({ ...f, noBodyMatch: f.bodyMatch === false }, io.env);
        if (f.rename !== undefined) fields.name = f.rename as string;
        if (f.enable) fields.enabled = true;
        if (f.disable) fields.enabled = false;
        if (Object.keys(fields).length === 0)
          throw new UsageError('nothing to change: give at least one setting');
        const e = await updateEndpoint(ctx, f.tenant as string, name, fields);
        return { json: e, text: endpointText(e) };
      }),
    );

  common(endpoint.command('remove <name>'))
    .description('Remove an endpoint')
    .requiredOption('-t, --tenant <slug>', 'the tenant')
    .action(
      act(io, async (ctx, [name]: [string], f) => {
        const e = await removeEndpoint(ctx, f.tenant as string, name);
        return { json: e, text: `Endpoint ${e.name} removed.` };
      }),
    );
}
