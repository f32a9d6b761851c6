import type { Command } from 'commander';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { demoBanner, seedDemo } from '../console/demo.ts';
import { ConfigError, loadConfig } from '../config/load.ts';
import { startIrin } from './runtime.ts';

interface ServeFlags {
  config?: string;
  dataDir?: string;
  listenAddress?: string;
  port?: string;
  logLevel?: string;
  demo?: boolean;
}

/**
 * The demo's websites run on this machine, which the prober refuses by default, and it backfills
 * a day of history in a few seconds, far above the default ingestion limits.
 */
const DEMO_OVERRIDES = {
  'probe.allow_cidrs': ['127.0.0.0/8'],
  'limits.ingestion_rate': 5_000_000,
  'limits.ingestion_burst': 50_000_000,
  'limits.server_ingestion_rate': 5_000_000,
  'limits.server_ingestion_burst': 50_000_000,
  'limits.log_ingestion_bytes_per_second': 500_000_000,
  'limits.log_ingestion_burst_bytes': 500_000_000,
};

/** `irin serve`: runs the server until SIGTERM/SIGINT, then shuts down gracefully. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Run the Irin server (edge, storage, query APIs, prober) in this process')
    .option('-c, --config <file>', 'YAML configuration file (see docs/configuration.md)')
    .option('--data-dir <dir>', 'data directory (overrides data_dir)')
    .option('--listen-address <addr>', 'address to listen on (overrides server.listen_address)')
    .option('--port <port>', 'port to listen on (overrides server.port)')
    .option('--log-level <level>', 'log level (overrides log.level)')
    .option(
      '--demo',
      'seed two demo tenants with simulated servers (metrics, logs) and locally served websites, in a fresh temporary data dir unless --data-dir is given',
    )
    .action(async (flags: ServeFlags) => {
      let config;
      const demoDataDir =
        flags.demo && !flags.dataDir ? mkdtempSync(join(tmpdir(), 'irin-demo-')) : undefined;
      try {
        config = loadConfig({
          file: flags.config,
          overrides: {
            data_dir: flags.dataDir ?? demoDataDir,
            // The demo's websites run on this machine, which the prober refuses by default.
            ...(flags.demo ? DEMO_OVERRIDES : {}),
            'server.listen_address': flags.listenAddress,
            'server.port': flags.port === undefined ? undefined : Number(flags.port),
            'log.level': flags.logLevel,
          },
        });
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`irin serve: ${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      const irin = await startIrin(config);
      const demo = flags.demo ? await seedDemo(irin.url, config.data_dir) : undefined;
      if (demo) process.stdout.write(`${demoBanner(irin.url, demo)}\n`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        irin.logger.info({ signal }, 'shutting down: finishing in-flight requests, flushing stores');
        const force = setTimeout(() => {
          irin.logger.error('shutdown timed out; exiting');
          process.exit(1);
        }, config.server.shutdown_timeout);
        force.unref();
        (demo ? demo.close() : Promise.resolve())
          .then(() => irin.close())
          .then(() => {
            if (demoDataDir) rmSync(demoDataDir, { recursive: true, force: true });
          })
          .then(
            () => process.exit(0),
            (err: unknown) => {
              irin.logger.error({ err }, 'error during shutdown');
              process.exit(1);
            },
          );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
