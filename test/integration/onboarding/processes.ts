import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** Debian's agents, as `.ci/run` installs them. */
export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';

/** Why the agent tests cannot run here, or undefined. In CI (CI=true) a missing binary is a failure, never a skip. */
export function agentsUnavailable(): string | undefined {
  const missing = [PROMETHEUS_BIN, NODE_EXPORTER_BIN].filter((b) => !existsSync(b));
  if (missing.length === 0) return undefined;
  if (process.env.CI === 'true')
    throw new Error(
      `CI needs ${missing.join(' and ')} (Debian packages prometheus, prometheus-node-exporter)`,
    );
  return `${missing.join(', ')} not installed`;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process whose output is kept for failure messages; stopped with SIGTERM (SIGKILL after 5 s). */
export class Agent {
  private readonly output: string[] = [];
  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.stdout?.on('data', (d: Buffer) => this.output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => this.output.push(d.toString()));
  }

  /** Starts `bin args` and waits until `readyPath` on `port` answers 200. */
  static async start(
    name: string,
    bin: string,
    args: string[],
    port: number,
    readyPath: string,
  ): Promise<Agent> {
    const agent = new Agent(
      name,
      spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }),
      `http://127.0.0.1:${port}`,
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (agent.child.exitCode !== null) throw new Error(`${name} exited early:\n${agent.log()}`);
      try {
        if ((await fetch(agent.url + readyPath)).ok) return agent;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await agent.stop();
        throw new Error(`${name} did not become ready:\n${agent.log()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  log(): string {
    return this.output.join('').slice(-4000);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
