import { Command, CommanderError } from 'commander';
import { ControlPlaneError, StoreUnavailableError, ValidationError } from '../tenancy/errors.ts';
import { registerAuditCommand } from './commands/audit.ts';
import { registerCredentialCommands } from './commands/credentials.ts';
import { registerEndpointCommands } from './commands/endpoint.ts';
import { registerServerCommands } from './commands/server.ts';
import { registerTenantCommands } from './commands/tenant.ts';
import { registerUserCommands } from './commands/user.ts';
import { UsageError, type CliIo } from './context.ts';
import { registerVerifyIsolationCommand } from '../isolation/cli.ts';

/**
 * Exit codes (docs/cli.md): 0 success; 1 the operation failed (not found, already exists, not
 * allowed in the current state, unexpected error); 2 bad usage or invalid input; 3 the
 * control-plane database is unavailable (locked or unreadable) — worth retrying.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unavailable: 3 } as const;

/**
 * The server module pulls in Fastify and every storage engine, which takes seconds to load through
 * tsx; control-plane commands do not need it. It is loaded for `serve` and for top-level help
 * (which lists `serve`), and left out otherwise.
 */
function needsServer(argv: readonly string[]): boolean {
  const first = argv[0];
  return first === undefined || first === 'serve' || first === 'help' || first.startsWith('-');
}

export async function buildProgram(io: CliIo, argv: readonly string[] = []): Promise<Command> {
  const program = new Command('irin')
    .description(
      'Irin: multi-tenant metrics, logs and probes. Control-plane commands work on the data dir directly.',
    )
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  if (needsServer(argv)) (await import('../server/serve-command.ts')).registerServeCommand(program);
  registerTenantCommands(program, io);
  registerServerCommands(program, io);
  registerCredentialCommands(program, io);
  registerUserCommands(program, io);
  registerEndpointCommands(program, io);
  registerAuditCommand(program, io);
  registerVerifyIsolationCommand(program, io);
  return program;
}

function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json');
}

/** Runs the CLI and returns its exit code; output goes through `io`. */
export async function runCliWith(argv: string[], io: CliIo): Promise<number> {
  const program = await buildProgram(io, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version output end in a CommanderError with exit code 0; usage errors were printed.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const code =
      err instanceof UsageError || err instanceof ValidationError
        ? EXIT.usage
        : err instanceof StoreUnavailableError
          ? EXIT.unavailable
          : EXIT.failed;
    const message = err instanceof Error ? err.message : String(err);
    if (wantsJson(argv)) {
      const status = err instanceof ControlPlaneError ? err.status : undefined;
      io.stderr(`${JSON.stringify({ error: message, ...(status ? { status } : {}) })}\n`);
    } else {
      io.stderr(`irin: ${message}\n`);
    }
    if (!(err instanceof UsageError || err instanceof ControlPlaneError) && io.env.IRIN_DEBUG) {
      io.stderr(`${(err as Error).stack ?? ''}\n`);
    }
    return code;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Entry point used by bin/irin.mjs. */
export async function runCli(argv: string[]): Promise<void> {
  const code = await runCliWith(argv, {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    readStdin: () => readAll(process.stdin),
    env: process.env,
  });
  process.exitCode = code;
}
