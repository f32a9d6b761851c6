import { spawn, type ChildProcess } from 'node:child_process';

export interface IrinProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
}

/** Starts `irin serve` as a real process (for signals and kill -9) and waits until it is ready. */
export async function spawnIrin(dataDir: string, env: Record<string, string> = {}): Promise<IrinProcess> {
  const child = spawn(process.execPath, ['bin/irin.mjs', 'serve', '--data-dir', dataDir, '--port', '0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, IRIN_PROBE_ENABLED: 'false', ...env },
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /"address":"(https?:\/\/[^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`irin serve exited (${code}) before listening:\n${out}`)));
  });
  return { child, url, output: () => out };
}

export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}
