import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/**
 * Servers the tests and benchmarks run as child processes (Debian's prometheus, node_exporter,
 * blackbox exporter, `irin serve`): started, waited for until ready, their output kept for failure
 * messages, stopped.
 */

/** A loopback port nothing listens on right now (the OS picks it; free until someone takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port from the OS')),
      );
    });
  });
}

export interface ChildServerOptions {
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
  /** How long to wait for readiness before stopping the child and failing (default 30 s). */
  readonly timeoutMs?: number;
}

export interface StopOptions {
  /** The first signal (default SIGTERM). */
  readonly signal?: NodeJS.Signals;
  /** How long the child may take to exit after it before SIGKILL (default 5 s; Infinity waits). */
  readonly graceMs?: number;
}

/** Output kept per child: a tail, so a long benchmark does not grow without bound. */
const KEPT_OUTPUT_CHARS = 1 << 20;
const POLL_MS = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class ChildServer {
  private readyUrl = '';
  private out = '';
  private spawnError: Error | undefined;
  private readonly exited: Promise<void>;

  private constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      this.out += d.toString();
      if (this.out.length > 2 * KEPT_OUTPUT_CHARS) this.out = this.out.slice(-KEPT_OUTPUT_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    // A binary that cannot be spawned emits 'error' and never 'exit'.
    this.exited = new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.on('error', (err) => {
        this.spawnError = err;
        resolve();
      });
    });
  }

  /** The base URL, http://127.0.0.1:<port> (or what the child announced), once ready. */
  get url(): string {
    return this.readyUrl;
  }

  /** Starts `bin args` and waits until `readyPath` on 127.0.0.1:`port` answers 2xx. */
  static async start(
    name: string,
    bin: string,
    args: readonly string[],
    port: number,
    readyPath: string,
    options: ChildServerOptions = {},
  ): Promise<ChildServer> {
    const server = ChildServer.launch(name, bin, args, options);
    const url = `http://127.0.0.1:${port}`;
    await server.waitReady(async () => {
      try {
        const res = await fetch(url + readyPath);
        await res.body?.cancel();
        return res.ok ? url : undefined;
      } catch {
        return undefined; // not listening yet
      }
    }, options.timeoutMs);
    return server;
  }

  /**
   * Starts `bin args` and waits until its output matches `announcement`, whose first group is the
   * base URL (for servers told to listen on port 0 that print where they ended up).
   */
  static async startAnnounced(
    name: string,
    bin: string,
    args: readonly string[],
    announcement: RegExp,
    options: ChildServerOptions = {},
  ): Promise<ChildServer> {
    const server = ChildServer.launch(name, bin, args, options);
    await server.waitReady(async () => announcement.exec(server.out)?.[1], options.timeoutMs);
    return server;
  }

  private static launch(
    name: string,
    bin: string,
    args: readonly string[],
    options: ChildServerOptions,
  ): ChildServer {
    const env = options.env ? { ...process.env, ...options.env } : process.env;
    return new ChildServer(name, spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env }));
  }

  private async waitReady(readyUrl: () => Promise<string | undefined>, timeoutMs = 30_000): Promise<void> {
    const started = Date.now();
    for (;;) {
      if (this.hasExited()) {
        const how = this.spawnError?.message ?? `exit ${this.child.exitCode ?? this.child.signalCode}`;
        throw new Error(`${this.name} ended (${how}) before it was ready:\n${this.log()}`);
      }
      const url = await readyUrl();
      if (url !== undefined) {
        this.readyUrl = url;
        return;
      }
      if (Date.now() - started > timeoutMs) {
        await this.stop();
        throw new Error(`${this.name} was not ready after ${timeoutMs} ms:\n${this.log()}`);
      }
      await sleep(POLL_MS);
    }
  }

  hasExited(): boolean {
    return this.spawnError !== undefined || this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** All output kept (stdout and stderr interleaved). */
  output(): string {
    return this.out;
  }

  /** The last few KB of output, for failure messages. */
  log(): string {
    return this.out.slice(-4000);
  }

  /** Sends `signal` (SIGTERM), SIGKILL after `graceMs` (5 s) if still running; resolves once it has exited. */
  async stop(options: StopOptions = {}): Promise<void> {
    if (this.hasExited()) return;
    const { signal = 'SIGTERM', graceMs = 5000 } = options;
    this.child.kill(signal);
    if (graceMs !== Infinity) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.exited, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
      if (!this.hasExited()) this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}
