import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type IrinConfig } from './schema.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Tree = { [key: string]: unknown };

/** Every option's path, found by validating an empty config (all options have defaults). */
function leafPaths(tree: unknown, prefix: string[] = []): string[][] {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return [prefix];
  return Object.entries(tree as Tree).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

/** `IRIN_` + the option's path upper-cased and joined by `_`: `server.port` → `IRIN_SERVER_PORT`. */
export function envVarName(path: readonly string[]): string {
  return 'IRIN_' + path.map((p) => p.toUpperCase()).join('_');
}

export function optionPaths(): string[][] {
  return leafPaths(configSchema.parse({}));
}

function setPath(tree: Tree, path: readonly string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (next === undefined || next === null || typeof next !== 'object') node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]!] = value;
}

/** Environment values are read as YAML scalars so `9470`, `true` and `[a, b]` get their types. */
function applyEnvOverrides(tree: Tree, env: NodeJS.ProcessEnv): void {
  for (const path of optionPaths()) {
    const raw = env[envVarName(path)];
    if (raw === undefined) continue;
    let value: unknown = raw;
    try {
      value = parseYaml(raw);
    } catch {
      value = raw;
    }
    if (value === null) value = raw;
    setPath(tree, path, value);
  }
}

function describeIssues(error: z.ZodError, source: string): string {
  const lines = error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      return `  ${where === '(top level)' ? '' : where + ': '}unknown option(s) ${issue.keys.join(', ')}`;
    }
    return `  ${where}: ${issue.message}`;
  });
  return `invalid configuration (${source}):\n${lines.join('\n')}\nSee docs/configuration.md for every option.`;
}

export interface LoadConfigOptions {
  /** Path of the YAML file; absent means defaults plus environment. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Last-word overrides from command-line flags, as option paths (e.g. `server.port`). */
  overrides?: Record<string, unknown>;
}

/** Loads YAML (optional), applies IRIN_* environment overrides and flags, validates. */
export function loadConfig(options: LoadConfigOptions = {}): IrinConfig {
  let tree: Tree = {};
  const source = options.file ? resolve(options.file) : 'defaults and environment';
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (err) {
      throw new ConfigError(`cannot read config file ${source}: ${(err as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch (err) {
      throw new ConfigError(`config file ${source} is not valid YAML: ${(err as Error).message}`);
    }
    if (parsed !== null && parsed !== undefined) {
      if (typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new ConfigError(`config file ${source} must hold a YAML mapping of options`);
      }
      tree = parsed as Tree;
    }
  }
  applyEnvOverrides(tree, options.env ?? process.env);
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(tree, path.split('.'), value);
  }
  const result = configSchema.safeParse(tree);
  if (!result.success) throw new ConfigError(describeIssues(result.error, source));
  return result.data;
}
