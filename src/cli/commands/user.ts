import type { Command } from 'commander';
import {
  addUserToOrg,
  confirmMfa,
  createUser,
  enrolMfa,
  listUsers,
  removeUserFromOrg,
  resetMfa,
  setPlatformAdmin,
  setUserPassword,
  setUserRole,
  showUser,
} from '../../tenancy/services/users.ts';
import type { Membership, User } from '../../tenancy/store.ts';
import { act, common, UsageError, type CliIo } from '../context.ts';
import { details, table } from '../output.ts';

async function passwordFrom(io: CliIo, f: Record<string, unknown>): Promise<string | undefined> {
  if (!f.passwordStdin) return undefined;
  const text = (await io.readStdin()).replace(/\r?\n$/, '');
  if (text === '') throw new UsageError('--password-stdin: standard input was empty');
  return text;
}

function userText(u: User): string {
  return details([
    ['id', u.id],
    ['email', u.email],
    ['name', u.displayName],
    ['platform admin', u.platformAdmin],
    ['MFA', u.mfaEnabled ? 'enabled' : 'not enrolled'],
    ['created', u.createdAt],
  ]);
}

const generatedNote = (pw: string) => `Generated password (shown once; have the user change it): ${pw}`;

export function registerUserCommands(program: Command, io: CliIo): void {
  const user = program.command('user').description('Manage console users, their organisations and MFA');

  common(user.command('create <email>'))
    .description('Create a user. Without --password-stdin a random password is generated and printed once')
    .option('--name <display name>', 'display name')
    .option('--platform-admin', 'make the user a platform admin (must enrol MFA before signing in)')
    .option('--password-stdin', 'read the password from standard input (at least 12 characters)')
    .action(
      act(io, async (ctx, [email]: [string], f) => {
        const password = await passwordFrom(io, f);
        const r = await createUser(ctx, {
          email,
          ...(f.name !== undefined ? { displayName: f.name as string } : {}),
          ...(password !== undefined ? { password } : {}),
          platformAdmin: Boolean(f.platformAdmin),
        });
        const lines = [`User ${r.user.email} created (id ${r.user.id}).`];
        if (r.generatedPassword) lines.push(generatedNote(r.generatedPassword));
        if (r.user.platformAdmin)
          lines.push(`Platform admins must enrol MFA first: irin user enrol-mfa ${r.user.email}`);
        return { json: r, text: lines.join('\n') };
      }),
    );

  common(user.command('list'))
    .description('List users, or the members of one tenant')
    .option('-t, --tenant <slug>', "only this tenant's members, with their roles")
    .action(
      act(io, async (ctx, _a: [], f) => {
        const list = await listUsers(ctx, f.tenant as string | undefined);
        const text =
          f.tenant !== undefined
            ? table(list as Membership[], [
                ['userEmail', 'email'],
                ['role', 'role'],
                ['createdAt', 'member since'],
              ])
            : table(list as User[], [
                ['email', 'email'],
                ['id', 'id'],
                ['platformAdmin', 'platform admin'],
                ['mfaEnabled', 'mfa'],
                ['createdAt', 'created'],
              ]);
        return { json: list, text };
      }),
    );

  common(user.command('show <email>'))
    .description('Show a user and their memberships')
    .action(
      act(io, async (ctx, [email]: [string]) => {
        const r = await showUser(ctx, email);
        return {
          json: r,
          text: `${userText(r.user)}\nmemberships:\n${table(r.memberships, [
            ['tenantSlug', 'tenant'],
            ['role', 'role'],
          ])}`,
        };
      }),
    );

  common(user.command('add-to-org <email> <tenant>'))
    .description('Make a user a member of a tenant')
    .option('--role <role>', 'viewer, editor or admin', 'viewer')
    .action(
      act(io, async (ctx, [email, tenant]: [string, string], f) => {
        const m = await addUserToOrg(ctx, email, tenant, f.role as string);
        return { json: m, text: `${m.userEmail} is now ${m.role} of ${m.tenantSlug}.` };
      }),
    );

  common(user.command('set-role <email> <tenant> <role>'))
    .description("Change a member's role in a tenant (viewer, editor or admin)")
    .action(
      act(io, async (ctx, [email, tenant, role]: [string, string, string]) => {
        const m = await setUserRole(ctx, email, tenant, role);
        return { json: m, text: `${m.userEmail} is now ${m.role} of ${m.tenantSlug}.` };
      }),
    );

  common(user.command('remove-from-org <email> <tenant>'))
    .description('Remove a user from a tenant (their sessions in it end)')
    .action(
      act(io, async (ctx, [email, tenant]: [string, string]) => {
        await removeUserFromOrg(ctx, email, tenant);
        return { json: { email, tenant, removed: true }, text: `${email} removed from ${tenant}.` };
      }),
    );

  common(user.command('set-password <email>'))
    .description(
      "Set a user's password (generated and printed once unless --password-stdin); ends their sessions",
    )
    .option('--password-stdin', 'read the password from standard input')
    .action(
      act(io, async (ctx, [email]: [string], f) => {
        const password = await passwordFrom(io, f);
        const r = await setUserPassword(ctx, email, password);
        return {
          json: r,
          text: [
            `Password of ${r.user.email} changed.`,
            ...(r.generatedPassword ? [generatedNote(r.generatedPassword)] : []),
          ].join('\n'),
        };
      }),
    );

  common(user.command('platform-admin <email> <on|off>'))
    .description('Grant or withdraw platform admin rights')
    .action(
      act(io, async (ctx, [email, state]: [string, string]) => {
        if (state !== 'on' && state !== 'off') throw new UsageError('the second argument is on or off');
        const u = await setPlatformAdmin(ctx, email, state === 'on');
        return { json: u, text: userText(u) };
      }),
    );

  common(user.command('enrol-mfa <email>'))
    .description('Start TOTP enrolment: prints the otpauth:// URI to load into an authenticator app')
    .action(
      act(io, async (ctx, [email]: [string]) => {
        const r = await enrolMfa(ctx, email);
        return {
          json: r,
          text: [
            `Load this URI into ${r.user.email}'s authenticator app (it contains the TOTP secret; do not share it):`,
            `  ${r.otpauthUri}`,
            `Then confirm with a current code: irin user confirm-mfa ${r.user.email} <code>`,
          ].join('\n'),
        };
      }),
    );

  common(user.command('confirm-mfa <email> <code>'))
    .description('Finish enrolment with a code from the app; prints the recovery codes once')
    .action(
      act(io, async (ctx, [email, code]: [string, string]) => {
        const r = await confirmMfa(ctx, email, code);
        return {
          json: r,
          text: [
            `MFA enabled for ${r.user.email}. Recovery codes (each works once; shown only now):`,
            ...r.recoveryCodes.map((c) => `  ${c}`),
          ].join('\n'),
        };
      }),
    );

  common(user.command('reset-mfa <email>'))
    .description("Turn a user's MFA off (lost device): secret and recovery codes deleted, sessions ended")
    .action(
      act(io, async (ctx, [email]: [string]) => {
        const u = await resetMfa(ctx, email);
        return {
          json: u,
          text: `MFA reset for ${u.email}.${u.platformAdmin ? ' As a platform admin they must enrol again before signing in.' : ''}`,
        };
      }),
    );
}
