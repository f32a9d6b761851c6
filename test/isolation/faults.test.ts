import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { PushPrincipal } from '../../src/auth/principal.ts';
import { enforceLabels } from '../../src/edge/enforce-labels.ts';
import {
  FaultInjectionRefused,
  injectIsolationFaults,
  layerOff,
  layersOff,
} from '../../src/isolation/faults.ts';
import { withOrgScopingFault } from '../../src/isolation/unscoped-store.ts';
import { injectTenantMatchers } from '../../src/logs/logql/scope.ts';
import { labelsFromRecord } from '../../src/model/labels.ts';
import { scopeMatchers } from '../../src/promql/inject.ts';
import { BUILTIN_DEFAULT_LIMITS } from '../../src/tenancy/limits.ts';
import type { ControlPlaneStore } from '../../src/tenancy/store.ts';
import { FAULT_MARKER } from './harness.ts';

const run = promisify(execFile);

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (/\.(ts|mjs|js|json|yaml|yml)$/.test(entry)) out.push(path);
  }
  return out;
}

describe('fault injection is test-only', () => {
  afterEach(() => injectIsolationFaults([], FAULT_MARKER));

  test('every layer is on unless a test switches it off', () => {
    assert.deepEqual(layersOff(), []);
    assert.equal(layerOff('credentials'), false);
  });

  test('a wrong marker is refused and changes nothing', () => {
    assert.throws(() => injectIsolationFaults(['credentials'], 'let me in'), FaultInjectionRefused);
    assert.throws(() => injectIsolationFaults(['credentials'], ''), FaultInjectionRefused);
    assert.equal(layerOff('credentials'), false);
  });

  test('outside a node:test process even the right marker is refused', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, MARKER: FAULT_MARKER };
    delete env.NODE_TEST_CONTEXT;
    const script = `
      const f = await import(${JSON.stringify(new URL('../../src/isolation/faults.ts', import.meta.url).href)});
      try { f.injectIsolationFaults(['credentials'], process.env.MARKER); console.log('INJECTED', f.layerOff('credentials')); }
      catch (e) { console.log(e instanceof f.FaultInjectionRefused ? 'REFUSED' : 'OTHER ' + e); }`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env,
    });
    assert.equal(stdout.trim(), 'REFUSED');
  });

  test('nothing outside the tests can reach the switch: no caller, no marker, no config key', () => {
    const root = new URL('../../', import.meta.url).pathname;
    const offenders: string[] = [];
    for (const file of [
      ...sourceFiles(join(root, 'src')),
      ...sourceFiles(join(root, 'bin')),
      join(root, 'irin.example.yaml'),
    ]) {
      const text = readFileSync(file, 'utf8');
      const isFaultsModule = file.endsWith('src/isolation/faults.ts');
      if (!isFaultsModule && /injectIsolationFaults/.test(text))
        offenders.push(`${file} calls injectIsolationFaults`);
      if (text.includes(FAULT_MARKER)) offenders.push(`${file} contains the test marker`);
      if (/NODE_TEST_CONTEXT/.test(text) && !isFaultsModule)
        offenders.push(`${file} reads NODE_TEST_CONTEXT`);
      if (file.includes('/src/config/') && /isolation|\bfaults?\b/i.test(text))
        offenders.push(`${file} (configuration) mentions faults`);
    }
    assert.deepEqual(offenders, []);
  });

  test('each switch point obeys its switch, and only its own', () => {
    const principal: PushPrincipal = {
      kind: 'push',
      tenantId: 1,
      tenantSlug: 'a',
      tokenId: 'x',
      instance: 'svr1',
      limits: BUILTIN_DEFAULT_LIMITS,
    };
    const sent = labelsFromRecord({ __name__: 'm', tenant: 'b', instance: 'other' });
    const policy = { tenantLabel: 'tenant', onConflict: 'overwrite' as const };
    const enforced = (): Record<string, string> => {
      const r = enforceLabels(sent, principal, policy);
      assert.ok(r.ok);
      return Object.fromEntries(r.labels.map((l) => [l.name, l.value]));
    };
    const store = { listTenants: async () => [] } as unknown as ControlPlaneStore;

    assert.deepEqual(enforced(), { __name__: 'm', tenant: 'a', instance: 'svr1' });
    assert.equal(scopeMatchers([], 'tenant', 'a').length, 1);
    assert.equal(injectTenantMatchers([], 'tenant', 'a').length, 1);
    assert.equal(withOrgScopingFault(store), store);

    injectIsolationFaults(['write-labels'], FAULT_MARKER);
    assert.deepEqual(enforced(), { __name__: 'm', tenant: 'b', instance: 'other' });
    assert.equal(scopeMatchers([], 'tenant', 'a').length, 1, 'query injection stays on');

    injectIsolationFaults(['query-injection'], FAULT_MARKER);
    assert.equal(scopeMatchers([], 'tenant', 'a').length, 0);
    assert.equal(injectTenantMatchers([], 'tenant', 'a').length, 0);
    assert.deepEqual(enforced(), { __name__: 'm', tenant: 'a', instance: 'svr1' }, 'write labels stay on');

    injectIsolationFaults(['org-scoping'], FAULT_MARKER);
    assert.notEqual(withOrgScopingFault(store), store);

    injectIsolationFaults([], FAULT_MARKER);
    assert.deepEqual(layersOff(), []);
  });
});
