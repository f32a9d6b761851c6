import { createHash, timingSafeEqual } from 'node:crypto';
import type { CredentialAuthRecord } from '../tenancy/store.ts';

/**
 * Test-only fault injection for the isolation proof (docs/security.md, "Fault injection"): each
 * switch turns ONE isolation layer off, so the attack suite can show that the remaining layers
 * still contain every cross-tenant attack.
 *
 * The layer code asks `layerOff(...)` at the single point where it enforces the layer, behind the
 * cheap `faultsActive` flag. The only way to set a switch is `injectIsolationFaults`, which refuses
 * unless BOTH hold:
 *  - the process runs under node's test runner (`NODE_TEST_CONTEXT` is set in its test processes);
 *  - the caller passes the test marker, a phrase that appears only in test code (this module keeps
 *    only its SHA-256, so no code under src/ can produce it without containing it).
 * No configuration key, environment variable or HTTP route leads here: nothing under src/ calls
 * `injectIsolationFaults` (test/isolation/faults.test.ts checks that), and the state starts empty
 * in every process.
 */

export const ISOLATION_LAYERS = [
  'query-injection',
  'org-scoping',
  'partitions',
  'write-labels',
  'credentials',
] as const;
export type IsolationLayer = (typeof ISOLATION_LAYERS)[number];

/** What turning each layer off does, for reports. */
export const LAYER_FAULTS: Record<IsolationLayer, string> = {
  'query-injection': 'PromQL/LogQL selectors and match[] are not given the tenant matcher',
  'org-scoping': 'control-plane lookups ignore the tenant id they are given',
  partitions: 'every tenant is mapped to one shared TSDB and log store',
  'write-labels': 'pushed series and streams keep the labels the client sent',
  credentials: 'secrets, revocation, expiry and suspension are not checked (a known client id is enough)',
};

/** The partition id every tenant maps to while `partitions` is off (real tenant ids start at 1). */
export const SHARED_PARTITION_ID = 0;

// sha256 of the marker phrase that only test code passes.
const MARKER_SHA256 = '354e90c1e4c252e8b3a2893e1ed6d484e854e4c56a7a11f6715bb625b1ab27ff';

const off = new Set<IsolationLayer>();

/** True while any fault is injected; the layer code checks this before asking `layerOff`. */
export let faultsActive = false;

/** Is this layer switched off (test fault injection)? Always false outside tests. */
export function layerOff(layer: IsolationLayer): boolean {
  return faultsActive && off.has(layer);
}

export class FaultInjectionRefused extends Error {}

/**
 * Replaces the set of switched-off layers (an empty list restores every layer). Throws
 * FaultInjectionRefused outside node's test runner or without the test marker.
 */
export function injectIsolationFaults(layers: readonly IsolationLayer[], marker: string): void {
  if (!process.env.NODE_TEST_CONTEXT) {
    throw new FaultInjectionRefused('isolation faults can only be injected in a node:test process');
  }
  const given = createHash('sha256').update(String(marker)).digest();
  if (!timingSafeEqual(given, Buffer.from(MARKER_SHA256, 'hex'))) {
    throw new FaultInjectionRefused('isolation faults need the test marker');
  }
  for (const layer of layers) {
    if (!ISOLATION_LAYERS.includes(layer))
      throw new FaultInjectionRefused(`unknown isolation layer ${String(layer)}`);
  }
  off.clear();
  for (const layer of layers) off.add(layer);
  faultsActive = off.size > 0;
}

/** The layers currently switched off. */
export function layersOff(): IsolationLayer[] {
  return ISOLATION_LAYERS.filter((l) => off.has(l));
}

/**
 * For the `credentials` fault: the stored record as if it were neither revoked nor expired, its
 * tenant active and its server present (the authenticator also skips the secret comparison).
 */
export function asIfValid(rec: CredentialAuthRecord): CredentialAuthRecord {
  return {
    ...rec,
    revokedAt: null,
    expiresAt: null,
    tenant: rec.tenant && { ...rec.tenant, status: 'active' },
    server: rec.server && { ...rec.server, removed: false },
  };
}
