import type { ChildProcess } from 'node:child_process';
import { ChildServer } from './child-server.ts';

export interface IrinProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

/** Starts `irin serve` as a real process (for signals and kill -9) and waits until it is ready. */
export async function spawnIrin(dataDir: string, env: Record<string, string> = {}): Promise<IrinProcess> {
  const irin = await ChildServer.startAnnounced(
    'irin serve',
    process.execPath,
    ['bin/irin.mjs', 'serve', '--data-dir', dataDir, '--port', '0', '--log-level', 'info'],
    /"address":"(https?:\/\/[^"]+)"/,
    { env: { IRIN_PROBE_ENABLED: 'false', ...env }, timeoutMs: 60_000 },
  );
  return { child: irin.child, url: irin.url, output: () => irin.output() };
}

export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
