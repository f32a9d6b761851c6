import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressWriteRequest, encodeWriteRequest, type WriteSeries } from '../../src/client/remote-write.ts';
import { PROMETHEUS_BIN as DEBIAN_PROMETHEUS } from '../support/binaries.ts';
import { ChildServer, freePort } from '../support/child-server.ts';

/**
 * A throw-away Debian Prometheus (2.42) for reference results: started on a free loopback port
 * with a temporary storage directory and the remote-write receiver, fed over remote write.
 */

export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? DEBIAN_PROMETHEUS;

export class PrometheusServer {
  private constructor(
    private readonly server: ChildServer,
    private readonly dir: string,
  ) {}

  get url(): string {
    return this.server.url;
  }

  static async start(extraArgs: string[] = []): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'irin-prom-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, 'global:\n  scrape_interval: 1h\n  evaluation_interval: 1m\n');
    const port = await freePort();
    try {
      const server = await ChildServer.start(
        'prometheus',
        PROMETHEUS_BIN,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${port}`,
          '--web.enable-remote-write-receiver',
          '--log.level=warn',
          ...extraArgs,
        ],
        port,
        '/-/ready',
      );
      return new PrometheusServer(server, dir);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
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
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
