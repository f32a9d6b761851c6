import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressWriteRequest, encodeWriteRequest, type WriteSeries } from '../../src/client/remote-write.ts';

/**
 * A throw-away Debian Prometheus (2.42) for reference results: started on a free loopback port
 * with a temporary storage directory and the remote-write receiver, fed over remote write.
 */

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export function prometheusAvailable(): boolean {
  return existsSync(PROMETHEUS_BIN);
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

export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly url: string,
    private readonly output: string[],
  ) {}

  static async start(extraArgs: string[] = []): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'irin-prom-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1h\n  evaluation_interval: 1m\n');
    const port = await freePort();
    const output: string[] = [];
    const child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
        ...extraArgs,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
    const server = new PrometheusServer(child, dir, `http://127.0.0.1:${port}`, output);
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited early:\n${output.join('')}`);
      try {
        const res = await fetch(`${server.url}/-/ready`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`prometheus did not become ready:\n${output.join('')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return server;
  }

  /** Pushes series in one remote-write request (one request, so the empty head accepts old samples). */
  async push(series: readonly WriteSeries[]): Promise<void> {
    const body = compressWriteRequest(encodeWriteRequest(series));
    const res = await fetch(`${this.url}/api/v1/write`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'snappy',
        'x-prometheus-remote-write-version': '0.1.0',
      },
      body,
    });
    if (!res.ok) throw new Error(`remote write to prometheus failed: ${res.status} ${await res.text()}`);
  }

  async get(path: string, params: Record<string, string>): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.url}${path}?${new URLSearchParams(params).toString()}`);
    return { status: res.status, body: await res.json() };
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once('exit', r));
      this.child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.child.exitCode === null) this.child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
