import { join } from 'node:path';
import { SecretHasher } from '../auth/credentials.ts';
import { loadOrCreateInstallKeys, SecretBox, type InstallKeys } from '../auth/install-keys.ts';
import { SqliteControlPlaneStore } from './sqlite/store.ts';
import type { ControlPlaneStore } from './store.ts';

export const CONTROL_PLANE_DB_FILE = 'control-plane.db';
export const INSTALL_KEYS_FILE = 'control-plane.keys.json';

/** What every consumer of the control plane needs: the store and the hashing key. */
export interface ControlPlane {
  readonly store: ControlPlaneStore;
  readonly hasher: SecretHasher;
  readonly dataDir: string;
}

export interface OpenControlPlaneOptions {
  dataDir: string;
  /** See SqliteStoreOptions.busyTimeoutMs. */
  busyTimeoutMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Opens the SQLite control plane of a data dir: `<dataDir>/control-plane.db` plus the key file
 * `<dataDir>/control-plane.keys.json` (created on first use, mode 0600). The server and the CLI
 * both call this on the same data dir; WAL mode and the busy timeout make that safe.
 * The database itself opens lazily (call `store.ready()` to fail fast).
 */
export function openControlPlane(options: OpenControlPlaneOptions): ControlPlane {
  const keys: InstallKeys = loadOrCreateInstallKeys(join(options.dataDir, INSTALL_KEYS_FILE));
  const store = new SqliteControlPlaneStore({
    path: join(options.dataDir, CONTROL_PLANE_DB_FILE),
    secretBox: new SecretBox(keys.dataKey),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return { store, hasher: new SecretHasher(keys.pepper), dataDir: options.dataDir };
}
