import { startTestIrin } from '../../support/irin.ts';
import { seedDemo, type Demo } from './seed.ts';

/**
 * The real Irin (src/server/runtime.ts, through test/support/irin.ts) on a free loopback port,
 * with the prober on (allowed to reach the demo websites on 127.0.0.1) and demo data seeded
 * through its public doors (seed.ts). Limits are raised so an hour of history goes in at once,
 * and retention covers the 30-day uptime calendar.
 */
export interface Stack {
  readonly url: string;
  readonly dataDir: string;
  readonly demo: Demo;
  stop(): Promise<void>;
}

export async function startStack(options: { port?: number; live?: boolean } = {}): Promise<Stack> {
  const irin = await startTestIrin({
    ...(options.port !== undefined ? { 'server.port': options.port } : {}),
    'probe.enabled': true,
    'probe.allow_cidrs': ['127.0.0.0/8'],
    'limits.retention': '100d',
    'limits.ingestion_rate': 200_000,
    'limits.ingestion_burst': 2_000_000,
    'limits.server_ingestion_rate': 100_000,
    'limits.server_ingestion_burst': 1_000_000,
  });
  const demo = await seedDemo(irin.url, irin.dataDir, { live: options.live ?? true });
  return {
    url: irin.url,
    dataDir: irin.dataDir,
    demo,
    async stop() {
      await demo.close();
      await irin.stop();
    },
  };
}
