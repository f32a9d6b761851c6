import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../config/load.ts';
import { startIrin } from './runtime.ts';

interface ServeFlags {
  config?: string;
  dataDir?: string;
  listenAddress?: string;
  port?: string;
  logLevel?: string;
}

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
    .action(async (flags: ServeFlags) => {
      let config;
      try {
        config = loadConfig({
          file: flags.config,
          overrides: {
            data_dir: flags.dataDir,
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
        irin.close().then(
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
