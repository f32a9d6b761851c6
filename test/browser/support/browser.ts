import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Chromium for the browser tests (Debian's /usr/bin/chromium), the console build, screenshots. */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CONSOLE = join(ROOT, 'console');
export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((e) => newestMtime(join(path, e))));
}

/** Builds the console unless console/dist is newer than every source file. */
export async function ensureConsoleBuilt(): Promise<void> {
  const index = join(CONSOLE, 'dist', 'index.html');
  let built = 0;
  try {
    built = statSync(index).mtimeMs;
  } catch {
    /* not built */
  }
  const sources = Math.max(
    newestMtime(join(CONSOLE, 'src')),
    newestMtime(join(CONSOLE, 'index.html')),
    newestMtime(join(CONSOLE, 'vite.config.ts')),
    newestMtime(join(CONSOLE, 'public')),
  );
  if (built > sources) return;
  const { build } = await import('vite');
  await build({ configFile: join(CONSOLE, 'vite.config.ts'), logLevel: 'warn' });
}

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Content-Security-Policy violations and page errors seen so far. */
  readonly problems: string[];
  screenshot(name: string, options?: { fullPage?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { colorScheme?: 'light' | 'dark' } = {}): Promise<Browser> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'irin-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1440, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    page,
    problems,
    async screenshot(name, opts = {}) {
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: opts.fullPage ?? false });
    },
    async close() {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
