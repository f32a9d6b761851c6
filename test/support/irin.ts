import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/load.ts';
import type { IrinConfig } from '../../src/config/schema.ts';
import { startIrin, type RunningIrin } from '../../src/server/runtime.ts';

export interface TestIrin extends RunningIrin {
  readonly dataDir: string;
  readonly config: IrinConfig;
  /** Closes the server and removes its data dir. */
  stop(): Promise<void>;
}

/** Starts the real server in this process on a free loopback port with a temporary data dir. */
export async function startTestIrin(overrides: Record<string, unknown> = {}): Promise<TestIrin> {
  const dataDir = mkdtempSync(join(tmpdir(), 'irin-test-'));
  const config = loadConfig({
    env: {},
    overrides: { data_dir: dataDir, 'server.port': 0, 'probe.enabled': false, ...overrides },
  });
  const irin = await startIrin(config, { logger: pino({ level: process.env.IRIN_TEST_LOG ?? 'silent' }) });
  return {
    ...irin,
    dataDir,
    config,
    async stop() {
      await irin.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Path of a fresh temporary directory. */
export function tempDir(prefix = 'irin-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
