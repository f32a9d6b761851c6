#!/usr/bin/env node
// Entry point of the `irin` command. Runs the TypeScript sources through tsx's loader so a fresh
// checkout needs no build step; `npm run build` produces dist/ for deployments that prefer it.
import { register } from 'tsx/esm/api';
import { fileURLToPath } from 'node:url';

register();
const main = new URL('../src/cli/main.ts', import.meta.url);
const { runCli } = await import(fileURLToPath(main));
await runCli(process.argv.slice(2));
