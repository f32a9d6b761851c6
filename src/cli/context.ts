import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import { limitsFromConfig } from '../config/schema.ts';
import { CONTROL_PLANE_DB_FILE, openControlPlane } from '../tenancy/open.ts';
import type { ServiceContext } from '../tenancy/services/context.ts';

/** Where command output goes; tests capture it, `runCli` wires it to the process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The whole of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
  env: NodeJS.ProcessEnv;
}

export interface CommonFlags {
  config?: string;
  dataDir?: string;
  json?: boolean;
}

/** A command's result: `json` is printed with --json, `text` otherwise. */
export interface CliResult {
  json: unknown;
  text: string;
}

/** Thrown for bad command-line input the services cannot see (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Adds the options every control-plane command has. */
export function common(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'YAML configuration file; its data_dir and limits are used')
    .option(
      '--data-dir <dir>',
      'data directory (default: data_dir from the config, IRIN_DATA_DIR, or ./data)',
    )
    .option('--json', 'print the result as JSON (for scripts)');
}

function actorName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

/**
 * Runs one control-plane command against the data dir: opens the store (the same SQLite file a
 * running server uses — WAL mode and the busy timeout make that safe), runs, prints, closes.
 */
export function act<A extends string[]>(
  io: CliIo,
  handler: (ctx: ServiceContext, args: A, flags: Record<string, unknown>) => Promise<CliResult>,
): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const flags = command.opts() as CommonFlags & Record<string, unknown>;
    const args = raw.slice(0, -2) as A;
    let config;
    try {
      config = loadConfig({
        ...(flags.config ? { file: flags.config } : {}),
        env: io.env,
        overrides: { data_dir: flags.dataDir },
      });
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
    const isNew = !existsSync(join(config.data_dir, CONTROL_PLANE_DB_FILE));
    const plane = openControlPlane({ dataDir: config.data_dir, busyTimeoutMs: 5000 });
    try {
      await plane.store.ready();
      if (isNew) io.stderr(`irin: created a new control-plane database in ${config.data_dir}\n`);
      const ctx: ServiceContext = {
        store: plane.store,
        hasher: plane.hasher,
        by: { actor: actorName(), sourceAddr: null },
        defaultLimits: limitsFromConfig(config.limits),
      };
      const result = await handler(ctx, args, flags);
      io.stdout(flags.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
    } finally {
      await plane.store.close();
    }
  };
}

/** Commander collector for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parseIntFlag(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`${what} must be a whole number, got "${value}"`);
  return Number(value);
}
