import { rmSync } from 'node:fs';
import { tempDir } from '../../support/irin.ts';
import { composeIrin } from './compose.ts';
import { seedDemo, type Demo } from './seed.ts';

/**
 * A running Irin with demo data for the browser tests. Until src/server/runtime.ts registers the
 * console, the parts are composed here (compose.ts); the switch to the real runtime is a matter
 * of replacing composeIrin with startTestIrin.
 */
export interface Stack {
  readonly url: string;
  readonly dataDir: string;
  readonly demo: Demo;
  stop(): Promise<void>;
}

export async function startStack(options: { port?: number; live?: boolean } = {}): Promise<Stack> {
  const dataDir = tempDir('irin-browser-');
  const irin = await composeIrin(dataDir, {
    ...(options.port !== undefined ? { port: options.port } : {}),
    limits: {
      retentionMs: 100 * 86_400_000,
      ingestionBurst: 2_000_000,
      ingestionRate: 200_000,
      serverIngestionBurst: 1_000_000,
      serverIngestionRate: 100_000,
    },
  });
  const demo = await seedDemo(irin.url, dataDir, { live: options.live ?? true });
  return {
    url: irin.url,
    dataDir,
    demo,
    async stop() {
      await demo.close();
      await irin.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
