/* eslint-disable @typescript-eslint/no-explicit-any -- parsed --json output is checked field by field */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { buildProgram, runCliWith } from '../../../src/cli/main.ts';
import type { CliIo } from '../../../src/cli/context.ts';
import { currentTotp } from '../../../src/auth/totp.ts';
import { tempDir } from '../tenancy/fixtures.ts';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cliIn(dataDir: string, env: NodeJS.ProcessEnv = {}) {
  return async (args: string[], stdin = ''): Promise<Run> => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      stdout: (s) => (stdout += s),
      stderr: (s) => (stderr += s),
      readStdin: async () => stdin,
      env,
    };
    const code = await runCliWith([...args, '--data-dir', dataDir], io);
    return { code, stdout, stderr };
  };
}

async function json<T = any>(run: Promise<Run>): Promise<T> {
  const r = await run;
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

test('tenant commands: --json parses, bad input states the rule, duplicates say so', async () => {
  const dir = tempDir();
  const cli = cliIn(dir);
  try {
    const t = await json(
      cli([
        'tenant',
        'create',
        'acme',
        '--name',
        'Acme Inc',
        '--limit',
        'max_series=5000',
        '--limit',
        'retention=30d',
        '--json',
      ]),
    );
    assert.deepEqual(
      [t.slug, t.displayName, t.limitOverrides],
      ['acme', 'Acme Inc', { maxSeries: 5000, retentionMs: 30 * 86_400_000 }],
    );

    const bad = await cli(['tenant', 'create', 'Bad_Slug']);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /invalid slug "Bad_Slug": a tenant slug is 1-63 characters of lowercase letters, digits and dashes/,
    );
    const dup = await cli(['tenant', 'create', 'acme', '--json']);
    assert.equal(dup.code, 1);
    assert.deepEqual(JSON.parse(dup.stderr), { error: 'tenant "acme" already exists', status: 409 });
    const unknownLimit = await cli(['tenant', 'create', 'beta', '--limit', 'bogus=1']);
    assert.equal(unknownLimit.code, 2);
    assert.match(
      unknownLimit.stderr,
      /unknown limit "bogus": limits are ingestion_rate, ingestion_burst, max_series/,
    );

    assert.deepEqual(
      (await json<any[]>(cli(['tenant', 'list', '--json']))).map((x) => x.slug),
      ['acme'],
    );
    const shown = await json(cli(['tenant', 'show', 'acme', '--json']));
    assert.equal(shown.effectiveLimits.maxSeries, 5000);
    assert.equal((await cli(['tenant', 'show', 'nope'])).code, 1);
    assert.match((await cli(['tenant', 'show', 'nope'])).stderr, /tenant "nope" not found/);

    const upd = await json(
      cli([
        'tenant',
        'update',
        'acme',
        '--unset-limit',
        'maxSeries',
        '--limit',
        'ingestionRate=777',
        '--json',
      ]),
    );
    assert.deepEqual(upd.limitOverrides, { retentionMs: 30 * 86_400_000, ingestionRate: 777 });
    assert.equal((await json(cli(['tenant', 'suspend', 'acme', '--json']))).status, 'suspended');
    assert.equal((await json(cli(['tenant', 'resume', 'acme', '--json']))).status, 'active');
    const refused = await cli(['tenant', 'delete', 'acme']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /without --yes/);
    const del = await json(cli(['tenant', 'delete', 'acme', '--yes', '--json']));
    assert.equal(del.tenant.status, 'decommissioned');
    const text = await cli(['tenant', 'list']);
    assert.match(text.stdout, /^ID\s+SLUG\s+NAME\s+STATUS\s+CREATED\n1\s+acme\s+Acme Inc\s+decommissioned/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('servers, tokens, API keys and admin keys: secrets printed once, never listed', async () => {
  const dir = tempDir();
  const cli = cliIn(dir);
  try {
    await json(cli(['tenant', 'create', 'acme', '--json']));
    const added = await json(cli(['server', 'add', 'acme-svr01', '-t', 'acme', '--json']));
    assert.equal(added.server.name, 'acme-svr01');
    assert.match(added.token.credential.clientId, /^irin_push_/);
    assert.equal(added.token.token, `${added.token.credential.clientId}.${added.token.secret}`);
    const human = await cli(['server', 'add', 'acme-svr02', '-t', 'acme']);
    assert.match(human.stdout, /shown once/);
    assert.equal((await cli(['server', 'add', 'acme-svr01', '-t', 'acme'])).code, 1);
    assert.deepEqual(
      (await json<any[]>(cli(['server', 'list', '-t', 'acme', '--json']))).map((s) => s.name),
      ['acme-svr01', 'acme-svr02'],
    );

    const wide = await json(
      cli(['token', 'create', '-t', 'acme', '--name', 'ansible', '--expires-in', '90d', '--json']),
    );
    const bound = await json(cli(['token', 'create', '-t', 'acme', '--server', 'acme-svr01', '--json']));
    assert.equal(bound.credential.serverName, 'acme-svr01');
    const key = await json(cli(['apikey', 'create', '-t', 'acme', '--name', 'grafana', '--json']));
    assert.match(key.credential.clientId, /^irin_read_/);
    const admin = await json(cli(['admin-key', 'create', '--name', 'ops', '--json']));
    assert.match(admin.credential.clientId, /^irin_admin_/);
    const rotated = await json(
      cli(['token', 'rotate', wide.credential.clientId, '-t', 'acme', '--grace', '1h', '--json']),
    );
    assert.notEqual(rotated.secret, wide.secret);

    const secrets = [added.token.secret, wide.secret, bound.secret, key.secret, admin.secret, rotated.secret];
    const lists = [
      await cli(['token', 'list', '-t', 'acme', '--all', '--json']),
      await cli(['token', 'list', '-t', 'acme']),
      await cli(['apikey', 'list', '-t', 'acme', '--json']),
      await cli(['admin-key', 'list', '--json']),
      await cli(['server', 'check', 'acme-svr01', '-t', 'acme', '--json']),
      await cli(['audit', '--json', '--limit', '1000']),
    ];
    for (const l of lists) {
      assert.equal(l.code, 0, l.stderr);
      for (const s of secrets) assert.ok(!l.stdout.includes(s), 'a secret appeared in list or audit output');
    }
    assert.equal(JSON.parse(lists[0]!.stdout).length, 4);

    const revoked = await json(cli(['token', 'revoke', wide.credential.clientId, '-t', 'acme', '--json']));
    assert.notEqual(revoked.revokedAt, null);
    const again = await cli(['token', 'revoke', wide.credential.clientId, '-t', 'acme']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already revoked/);
    assert.equal((await json<any[]>(cli(['token', 'list', '-t', 'acme', '--json']))).length, 3);
    // Scoping: a read key is not found under the token commands.
    assert.equal((await cli(['token', 'revoke', key.credential.clientId, '-t', 'acme'])).code, 1);
    const removed = await json(cli(['server', 'remove', 'acme-svr01', '-t', 'acme', '--json']));
    assert.equal(removed.revokedTokens, 2);
    assert.equal((await cli(['token', 'create', '-t', 'acme', '--expires-in', 'soon'])).code, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('users: create, organisations and roles, MFA enrolment and reset', async () => {
  const dir = tempDir();
  const cli = cliIn(dir);
  try {
    await json(cli(['tenant', 'create', 'acme', '--json']));
    const created = await json(
      cli(['user', 'create', 'Ops@Acme.example', '--password-stdin', '--json'], 'a good long password\n'),
    );
    assert.equal(created.user.email, 'ops@acme.example');
    assert.equal(created.generatedPassword, undefined);
    const generated = await json(cli(['user', 'create', 'root@irin.example', '--platform-admin', '--json']));
    assert.equal(typeof generated.generatedPassword, 'string');
    assert.equal((await cli(['user', 'create', 'ops@acme.example'])).code, 1);
    const short = await cli(['user', 'create', 'x@acme.example', '--password-stdin'], 'short');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /12-1024 characters/);

    assert.equal(
      (await json(cli(['user', 'add-to-org', 'ops@acme.example', 'acme', '--role', 'editor', '--json'])))
        .role,
      'editor',
    );
    assert.match((await cli(['user', 'add-to-org', 'ops@acme.example', 'acme'])).stderr, /already a member/);
    assert.match(
      (await cli(['user', 'set-role', 'ops@acme.example', 'acme', 'owner'])).stderr,
      /viewer, editor, admin/,
    );
    assert.equal(
      (await json(cli(['user', 'set-role', 'ops@acme.example', 'acme', 'admin', '--json']))).role,
      'admin',
    );
    const members = await json<any[]>(cli(['user', 'list', '-t', 'acme', '--json']));
    assert.deepEqual(
      members.map((m) => [m.userEmail, m.role]),
      [['ops@acme.example', 'admin']],
    );

    const enrol = await json(cli(['user', 'enrol-mfa', 'root@irin.example', '--json']));
    const seed = new URL(enrol.otpauthUri).searchParams.get('secret')!;
    const confirmed = await json(
      cli(['user', 'confirm-mfa', 'root@irin.example', currentTotp(seed), '--json']),
    );
    assert.equal(confirmed.recoveryCodes.length, 10);
    assert.equal(confirmed.user.mfaEnabled, true);
    const reset = await json(cli(['user', 'reset-mfa', 'root@irin.example', '--json']));
    assert.equal(reset.mfaEnabled, false);
    const shown = await json(cli(['user', 'show', 'ops@acme.example', '--json']));
    assert.equal(shown.memberships[0].tenantSlug, 'acme');

    const audit = await cli(['audit', '--json', '--action', 'user.*']);
    assert.ok(!audit.stdout.includes(seed));
    assert.ok(!audit.stdout.includes(generated.generatedPassword));
    assert.ok(JSON.parse(audit.stdout).some((e: any) => e.action === 'user.mfa-reset'));
    assert.equal(
      (await json<any[]>(cli(['audit', '-t', 'acme', '--since', '1h', '--json']))).length >= 3,
      true,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('endpoints: add, list, show, update keeps secrets, remove', async () => {
  const dir = tempDir();
  const cli = cliIn(dir, { PROBE_TOKEN: 'tok-from-env-123' });
  try {
    await json(cli(['tenant', 'create', 'acme', '--json']));
    const e = await json(
      cli([
        'endpoint',
        'add',
        'shop',
        '-t',
        'acme',
        '--url',
        'https://shop.acme.example/health',
        '--expect-status',
        '200,204',
        '--body-keyword',
        'ok',
        '--no-tls-verify',
        '--header',
        'Accept: text/plain',
        '--secret-header',
        'Authorization: env:PROBE_TOKEN',
        '--json',
      ]),
    );
    assert.deepEqual(
      [e.expectedStatus, e.bodyMatch, e.tlsVerify, e.followRedirects],
      [[200, 204], { kind: 'keyword', pattern: 'ok', negate: false }, false, true],
    );
    assert.deepEqual(e.headers, [
      { name: 'Accept', value: 'text/plain', secret: false },
      { name: 'Authorization', value: null, secret: true },
    ]);
    const u = await json(
      cli([
        'endpoint',
        'update',
        'shop',
        '-t',
        'acme',
        '--interval',
        '30',
        '--no-body-match',
        '--disable',
        '--json',
      ]),
    );
    assert.deepEqual([u.intervalSeconds, u.bodyMatch, u.enabled, u.tlsVerify], [30, null, false, false]);
    const bad = await cli(['endpoint', 'update', 'shop', '-t', 'acme', '--interval', '5']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /from 10 to 86400/);
    const listed = await cli(['endpoint', 'list', '-t', 'acme', '--json']);
    assert.ok(!listed.stdout.includes('tok-from-env-123'));
    assert.equal((await json(cli(['endpoint', 'show', 'shop', '-t', 'acme', '--json']))).name, 'shop');
    const renamed = await json(
      cli([
        'endpoint',
        'update',
        'shop',
        '-t',
        'acme',
        '--rename',
        'store',
        '--secret-header',
        'Authorization',
        '--json',
      ]),
    );
    assert.deepEqual(renamed.headers, [{ name: 'Authorization', value: null, secret: true }]);
    await json(cli(['endpoint', 'remove', 'store', '-t', 'acme', '--json']));
    assert.deepEqual(await json(cli(['endpoint', 'list', '-t', 'acme', '--json'])), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every command has --help', async () => {
  const leaves: string[][] = [];
  const walk = (cmd: Command, path: string[]) => {
    if (cmd.commands.length === 0) leaves.push(path);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  const io: CliIo = { stdout: () => {}, stderr: () => {}, readStdin: async () => '', env: {} };
  walk(await buildProgram(io, ['tenant']), []); // without the server module: serve is the lead's
  assert.ok(leaves.length > 30);
  for (const path of leaves) {
    let out = '';
    const code = await runCliWith([...path, '--help'], { ...io, stdout: (s) => (out += s) });
    assert.equal(code, 0, path.join(' '));
    assert.match(out, /^Usage: irin /, path.join(' '));
    if (path[0] !== 'serve' && path[0] !== 'help') assert.match(out, /--json/, path.join(' '));
  }
});
