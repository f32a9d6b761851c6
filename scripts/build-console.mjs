#!/usr/bin/env node
// Builds the web console (console/ → console/dist) with Vite when it is missing or older than its
// sources, so `npm start` and the tests always serve a current console without rebuilding each time.
// `--force` always rebuilds.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('../console/', import.meta.url).pathname;
const built = join(root, 'dist', 'index.html');

function newest(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let latest = s.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'dist' || entry === 'node_modules') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

const force = process.argv.includes('--force');
if (!force && existsSync(built) && statSync(built).mtimeMs >= newest(root)) process.exit(0);
const vite = new URL('../node_modules/vite/bin/vite.js', import.meta.url).pathname;
const result = spawnSync(
  process.execPath,
  [vite, 'build', '--config', join(root, 'vite.config.ts'), '--logLevel', 'warn'],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
