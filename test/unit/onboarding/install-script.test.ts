import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import {
  AGENT_CONFIG_PATH,
  AGENT_SECRET_PATH,
  AGENT_STORAGE_PATH,
  generateInstallScript,
} from '../../../src/onboarding/install-script.ts';
import { generatePrometheusAgentConfig } from '../../../src/onboarding/prometheus-agent.ts';
import type { OnboardingInput } from '../../../src/onboarding/target.ts';
import { HOSTILE_URL, HOSTILE_VALUES } from './hostile.ts';

const BASE: OnboardingInput = {
  irinUrl: 'https://metrics.example.com',
  tenantSlug: 'acme',
  instance: 'acme-web01',
  clientId: 'irin_push_abcdefghijklmnop',
};

/**
 * A staging root plus stand-ins for the system tools the script drives (apt-get, dpkg-query,
 * systemctl, prometheus --version), which log every call so a test can see what the script did.
 */
function sandbox(prometheusVersion = '2.42.0+ds', options: { realPromtool?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'irin-install-'));
  const root = join(dir, 'root');
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  mkdirSync(join(root, 'etc', 'default'), { recursive: true });
  mkdirSync(bin);
  writeFileSync(
    join(root, 'etc', 'default', 'prometheus'),
    '# Set the command-line arguments to pass to the server.\nARGS=""\n',
    { mode: 0o644 },
  );
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  stub('apt-get', `echo "apt-get $*" >>'${log}'\n[ "$1" = install ] && touch '${dir}/installed'\nexit 0`);
  stub('dpkg-query', `[ -f '${dir}/installed' ] && echo 'install ok installed'`);
  stub(
    'systemctl',
    `echo "systemctl $*" >>'${log}'\nunit="$(echo "$*" | sed 's/.* //')"\ncase "$1" in\n  is-enabled) [ -f '${dir}/enabled-'"$unit" ];;\n  enable) touch '${dir}/enabled-'"$unit";;\n  is-active) [ -f '${dir}/active-'"$unit" ];;\n  start|restart) touch '${dir}/active-'"$unit";;\nesac`,
  );
  // promtool takes a while to start; the real one checks the configuration where it matters.
  if (!options.realPromtool) stub('promtool', 'exit 0');
  stub('prometheus', `echo 'prometheus, version ${prometheusVersion} (branch: debian/sid, revision: 1)'`);
  const owner = userInfo().username;
  return {
    dir,
    root,
    owner,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
    clearCalls: () => rmSync(log, { force: true }),
    run(script: string, env: Record<string, string> = {}, args: string[] = []) {
      writeFileSync(join(dir, 'install.sh'), script);
      return spawnSync('bash', [join(dir, 'install.sh'), ...args], {
        encoding: 'utf8',
        env: {
          PATH: `${bin}:/usr/bin:/bin`,
          IRIN_INSTALL_ROOT: root,
          IRIN_FILE_OWNER: owner,
          ...env,
        },
      });
    },
    file: (path: string) => join(root, path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);

test('the install script equals its golden file and passes bash -n', () => {
  const script = generateInstallScript(BASE);
  const golden = join(import.meta.dirname, '..', '..', 'golden', 'install-prometheus-agent.sh');
  if (process.env.IRIN_UPDATE_GOLDEN === '1') writeFileSync(golden, script);
  assert.equal(script, readFileSync(golden, 'utf8'));
  const r = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('install script: installs, writes 0600 files, sets the agent flags, restarts; a second run changes nothing', () => {
  const box = sandbox('2.42.0+ds', { realPromtool: true });
  try {
    const script = generateInstallScript({ ...BASE, secret: 'S3cret_-x' });
    const first = box.run(script);
    assert.equal(first.status, 0, first.stderr);
    assert.deepEqual(box.calls(), [
      'apt-get update -qq',
      'apt-get install -y -qq prometheus prometheus-node-exporter',
      'systemctl is-enabled --quiet prometheus-node-exporter',
      'systemctl enable --quiet prometheus-node-exporter',
      'systemctl is-enabled --quiet prometheus',
      'systemctl enable --quiet prometheus',
      'systemctl is-active --quiet prometheus-node-exporter',
      'systemctl start prometheus-node-exporter',
      'systemctl restart prometheus',
    ]);
    assert.equal(readFileSync(box.file(AGENT_SECRET_PATH), 'utf8'), 'S3cret_-x');
    assert.equal(
      readFileSync(box.file(AGENT_CONFIG_PATH), 'utf8'),
      generatePrometheusAgentConfig(BASE, { passwordFile: AGENT_SECRET_PATH }),
    );
    assert.equal(mode(box.file(AGENT_SECRET_PATH)), '600');
    assert.equal(mode(box.file(AGENT_CONFIG_PATH)), '600');
    assert.equal(mode(box.file(AGENT_STORAGE_PATH)), '750');
    assert.equal(
      readFileSync(box.file('/etc/default/prometheus'), 'utf8'),
      '# Set the command-line arguments to pass to the server.\n' +
        'ARGS="--enable-feature=agent --config.file=/etc/prometheus/irin-agent.yml --storage.agent.path=/var/lib/prometheus/irin-agent --web.listen-address=127.0.0.1:9090"\n',
    );
    assert.equal(mode(box.file('/etc/default/prometheus')), '644');

    const before = [AGENT_SECRET_PATH, AGENT_CONFIG_PATH, '/etc/default/prometheus'].map(
      (p) => statSync(box.file(p)).mtimeMs,
    );
    box.clearCalls();
    const second = box.run(script);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stdout, /Nothing changed/);
    assert.deepEqual(box.calls(), [
      'systemctl is-enabled --quiet prometheus-node-exporter',
      'systemctl is-enabled --quiet prometheus',
      'systemctl is-active --quiet prometheus-node-exporter',
      'systemctl is-active --quiet prometheus',
    ]);
    assert.deepEqual(
      [AGENT_SECRET_PATH, AGENT_CONFIG_PATH, '/etc/default/prometheus'].map(
        (p) => statSync(box.file(p)).mtimeMs,
      ),
      before,
    );

    // A changed secret (or a loosened mode) is put right and Prometheus restarted.
    chmodSync(box.file(AGENT_CONFIG_PATH), 0o644);
    box.clearCalls();
    const third = box.run(script, { IRIN_PUSH_SECRET: 'rotated' });
    assert.equal(third.status, 0, third.stderr);
    assert.match(
      third.stdout,
      /Changed: \/etc\/prometheus\/irin-push-secret \/etc\/prometheus\/irin-agent.yml; restarting/,
    );
    assert.equal(readFileSync(box.file(AGENT_SECRET_PATH), 'utf8'), 'rotated');
    assert.equal(mode(box.file(AGENT_CONFIG_PATH)), '600');
    assert.ok(box.calls().includes('systemctl restart prometheus'));
  } finally {
    box.cleanup();
  }
});

test('install script: Prometheus 3 gets --agent, versions before 2.32 are refused, no secret is an error, --alloy only prints', () => {
  const v3 = sandbox('3.5.0');
  try {
    assert.equal(v3.run(generateInstallScript({ ...BASE, secret: 's' })).status, 0);
    assert.match(readFileSync(v3.file('/etc/default/prometheus'), 'utf8'), /^ARGS="--agent --config\.file=/m);
  } finally {
    v3.cleanup();
  }
  const old = sandbox('2.31.2+ds1');
  try {
    const r = old.run(generateInstallScript({ ...BASE, secret: 's' }));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /Prometheus 2\.31 has no agent mode \(2\.32 or later needed\)/);
    assert.ok(!existsSync(old.file(AGENT_CONFIG_PATH)));
  } finally {
    old.cleanup();
  }
  const box = sandbox();
  try {
    const noSecret = box.run(generateInstallScript(BASE));
    assert.equal(noSecret.status, 2);
    assert.match(noSecret.stderr, /run it with IRIN_PUSH_SECRET=<secret>/);
    assert.deepEqual(box.calls(), []);
    const fromEnv = box.run(generateInstallScript(BASE), { IRIN_PUSH_SECRET: 'from-env' });
    assert.equal(fromEnv.status, 0, fromEnv.stderr);
    assert.equal(readFileSync(box.file(AGENT_SECRET_PATH), 'utf8'), 'from-env');
    box.clearCalls();
    const alloy = box.run(generateInstallScript(BASE), {}, ['--alloy']);
    assert.equal(alloy.status, 0);
    assert.match(alloy.stdout, /Grafana Alloy is not packaged by Debian/);
    assert.match(alloy.stdout, /IRIN_PUSH_SECRET=<secret>/);
    assert.deepEqual(box.calls(), []);
  } finally {
    box.cleanup();
  }
});

test('install script: hostile values reach the files and the output exactly, and run nothing', () => {
  const box = sandbox();
  const canary = '/tmp/irin-pwned'; // the path the hostile values try to create
  rmSync(canary, { force: true });
  try {
    // Quoting does not depend on where a character sits, so the values are run joined (two ways)
    // rather than one script run each, which keeps this test quick on a loaded machine.
    for (const value of [HOSTILE_VALUES.join(''), HOSTILE_VALUES.join('\n')]) {
      const input = { ...BASE, irinUrl: HOSTILE_URL, tenantSlug: value, instance: value, secret: value };
      const script = generateInstallScript(input);
      const syntax = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
      assert.equal(syntax.status, 0, syntax.stderr);
      const r = box.run(script);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(box.file(AGENT_SECRET_PATH), 'utf8'), value);
      assert.equal(
        readFileSync(box.file(AGENT_CONFIG_PATH), 'utf8'),
        generatePrometheusAgentConfig({ ...input, secret: undefined }, { passwordFile: AGENT_SECRET_PATH }),
      );
      assert.ok(r.stdout.includes(`as tenant ${value}, instance ${value}.\n`), r.stdout);
    }
    assert.ok(!existsSync(canary), 'a hostile value ran a command');
  } finally {
    box.cleanup();
  }
});
