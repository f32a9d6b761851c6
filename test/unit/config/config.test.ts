import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, envVarName, loadConfig, optionPaths } from '../../../src/config/load.ts';
import { BUILTIN_DEFAULT_LIMITS } from '../../../src/tenancy/limits.ts';
import { limitsFromConfig } from '../../../src/config/schema.ts';

const repo = new URL('../../../', import.meta.url);

test('defaults: loopback, documented port, ./data, limits equal the built-in defaults', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.server.listen_address, '127.0.0.1');
  assert.equal(c.server.port, 9470);
  assert.equal(c.data_dir, './data');
  assert.deepEqual(limitsFromConfig(c.limits), BUILTIN_DEFAULT_LIMITS);
});

test('every option is documented in docs/configuration.md and in irin.example.yaml', () => {
  const doc = readFileSync(new URL('docs/configuration.md', repo), 'utf8');
  const example = loadConfig({ file: new URL('irin.example.yaml', repo).pathname, env: {} });
  assert.deepEqual(example, loadConfig({ env: {} }), 'the example file states the defaults');
  for (const path of optionPaths())
    assert.ok(doc.includes(`\`${path.join('.')}\``), `${path.join('.')} undocumented`);
});

test('environment overrides the file, flags override the environment', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irin-config-'));
  const file = join(dir, 'irin.yaml');
  writeFileSync(file, 'server:\n  port: 1000\nlimits:\n  retention: 30d\n');
  const fromFile = loadConfig({ file, env: {} });
  assert.equal(fromFile.server.port, 1000);
  assert.equal(fromFile.limits.retention, 30 * 86_400_000);
  const fromEnv = loadConfig({
    file,
    env: { IRIN_SERVER_PORT: '2000', IRIN_SERVER_TRUSTED_PROXIES: '[10.0.0.1, 10.1.0.0/16]' },
  });
  assert.equal(fromEnv.server.port, 2000);
  assert.deepEqual(fromEnv.server.trusted_proxies, ['10.0.0.1', '10.1.0.0/16']);
  const fromFlag = loadConfig({
    file,
    env: { IRIN_SERVER_PORT: '2000' },
    overrides: { 'server.port': 3000 },
  });
  assert.equal(fromFlag.server.port, 3000);
});

test('environment variable names are unambiguous', () => {
  const names = optionPaths().map(envVarName);
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.includes('IRIN_LIMITS_INGESTION_RATE'));
});

test('bad values and unknown options are named in the error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'irin-config-'));
  const file = join(dir, 'irin.yaml');
  writeFileSync(
    file,
    'server:\n  port: http\n  bogus: 1\nlimits:\n  retention: ten days\ntenancy:\n  tenant_label: "bad-label"\n',
  );
  assert.throws(
    () => loadConfig({ file, env: {} }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /server\.port/);
      assert.match(err.message, /bogus/);
      assert.match(err.message, /limits\.retention: "ten days" is not a duration/);
      assert.match(err.message, /tenancy\.tenant_label: must be a valid label name/);
      return true;
    },
  );
  writeFileSync(file, 'server:\n  tls_cert_file: /x.pem\n');
  assert.throws(() => loadConfig({ file, env: {} }), /tls_cert_file and tls_key_file must be set together/);
  assert.throws(() => loadConfig({ file: join(dir, 'missing.yaml'), env: {} }), /cannot read config file/);
});
