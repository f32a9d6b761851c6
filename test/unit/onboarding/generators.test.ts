import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Document, parse as parseYaml } from 'yaml';
import { generateAlloyConfig } from '../../../src/onboarding/alloy.ts';
import { alloyString, literalReplacement, shellQuote } from '../../../src/onboarding/escape.ts';
import { generatePrometheusAgentConfig, toPrometheusYaml } from '../../../src/onboarding/prometheus-agent.ts';
import {
  normaliseBaseUrl,
  SECRET_PLACEHOLDER,
  type OnboardingInput,
} from '../../../src/onboarding/target.ts';
import { ValidationError } from '../../../src/tenancy/errors.ts';
import { checkAgainstReference } from './alloy-reference.ts';
import { AlloySyntaxError, decodeAlloyString, parseAlloy, type Block, type Value } from './alloy-syntax.ts';
import { HOSTILE_URL, HOSTILE_VALUES } from './hostile.ts';
import { missingBinaries, PROMTOOL_BIN } from '../../support/binaries.ts';

const GOLDEN = join(import.meta.dirname, '..', '..', 'golden');
const BASE: OnboardingInput = {
  irinUrl: 'https://metrics.example.com',
  tenantSlug: 'acme',
  instance: 'acme-web01',
  clientId: 'irin_push_abcdefghijklmnop',
};

/** Compares with a golden file; IRIN_UPDATE_GOLDEN=1 rewrites it instead (then review the diff). */
function assertGolden(name: string, actual: string): void {
  const path = join(GOLDEN, name);
  if (process.env.IRIN_UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  assert.equal(actual, readFileSync(path, 'utf8'), `${name} differs from test/golden/${name}`);
}

function findBlocks(blocks: readonly Block[], name: string, label?: string): Block[] {
  return blocks.filter((b) => b.name === name && (label === undefined || b.label === label));
}

function attr(block: Block, name: string): Value {
  const a = block.attributes.find((x) => x.name === name);
  assert.ok(a, `${block.name} has no ${name}`);
  return a.value;
}

const strValue = (v: Value): string => {
  assert.equal(v.kind, 'string');
  return (v as { value: string }).value;
};

/** target_label → replacement of every rule of a relabel block. */
function ruleMap(block: Block): Map<string, string> {
  return new Map(
    findBlocks(block.blocks, 'rule').map((r) => [
      strValue(attr(r, 'target_label')),
      strValue(attr(r, 'replacement')),
    ]),
  );
}

test('the Alloy configuration equals the golden file, and the golden file only uses documented components and arguments', () => {
  const generated = generateAlloyConfig(BASE);
  assertGolden('alloy.river', generated);
  assert.deepEqual(checkAgainstReference(readFileSync(join(GOLDEN, 'alloy.river'), 'utf8')), []);
  for (const variant of [
    generateAlloyConfig({ ...BASE, secret: 'Sx_-abc' }, { secretSource: 'inline' }),
    generateAlloyConfig({ ...BASE, authStyle: 'cf-access' }),
    generateAlloyConfig(
      { ...BASE, authStyle: 'cf-access', secret: 'Sx_-abc' },
      { secretSource: 'inline', scrapeInterval: '1s' },
    ),
  ]) {
    assert.deepEqual(checkAgainstReference(variant), []);
  }
});

test('the Alloy reference check fails on what Alloy does not document', () => {
  const good = generateAlloyConfig(BASE);
  const broken: [string, string][] = [
    [
      good.replace('job_name        = "node"', 'job_name        = "node"\n  bogus_arg = 1'),
      'has no argument "bogus_arg"',
    ],
    [good.replace('basic_auth {', 'basic_authx {'), 'has no block "basic_authx"'],
    [
      good.replace('prometheus.relabel.irin.receiver]', 'prometheus.relabel.nope.receiver]'),
      'names no declared component',
    ],
    [
      good.replace('local.file_match.nginx.targets', 'local.file_match.nginx.receiver'),
      'exports no field "receiver"',
    ],
    [good.replace('sys.env(', 'sys.getenv('), 'not an allowed standard-library function'],
    [good.replace('action       = "replace"', 'action       = "rewrite"'), 'unknown relabel action'],
    [good + '\nprometheus.exporter.windows "w" { }\n', 'not an allowed component'],
  ];
  for (const [text, expected] of broken) {
    const problems = checkAgainstReference(text);
    assert.ok(
      problems.some((p) => p.includes(expected)),
      `expected "${expected}" in ${JSON.stringify(problems)}`,
    );
  }
  assert.throws(() => parseAlloy(good.replace(/\}\n$/, '\n')), /unbalanced braces/);
  assert.throws(() => parseAlloy(good + '}\n'), /unbalanced braces/);
  assert.throws(() => parseAlloy('a = "x\\q"\n'), AlloySyntaxError);
  assert.throws(() => parseAlloy('a = "x\ny"\n'), /newline inside a string/);
});

test('Alloy strings: every hostile value round-trips through the documented escapes, and nothing escapes its statement', () => {
  for (const value of HOSTILE_VALUES) {
    const literal = alloyString(value);
    assert.ok(!/[\n\r\u2028\u2029\u0085]/.test(literal), `raw line break in ${literal}`);
    assert.equal(decodeAlloyString(literal), value);

    const text = generateAlloyConfig(
      { ...BASE, instance: value, tenantSlug: value, clientId: value.replaceAll(':', ''), secret: value },
      { secretSource: 'inline' },
    );
    assert.deepEqual(checkAgainstReference(text), [], `for ${JSON.stringify(value)}`);
    const file = parseAlloy(text);
    assert.deepEqual(
      file.blocks.map((b) => `${b.name}.${b.label}`),
      [
        'prometheus.exporter.unix.node',
        'prometheus.scrape.node',
        'prometheus.relabel.irin',
        'prometheus.remote_write.irin',
        'local.file_match.nginx',
        'loki.source.file.nginx',
        'loki.relabel.journal',
        'loki.source.journal.journal',
        'loki.relabel.irin',
        'loki.write.irin',
      ],
    );
    for (const relabel of [
      ...findBlocks(file.blocks, 'prometheus.relabel', 'irin'),
      ...findBlocks(file.blocks, 'loki.relabel', 'irin'),
    ]) {
      const rules = ruleMap(relabel);
      assert.equal(rules.get('instance'), literalReplacement(value));
      assert.equal(rules.get('tenant'), literalReplacement(value));
    }
    for (const [component, path] of [
      ['prometheus.remote_write', '/api/v1/write'],
      ['loki.write', '/loki/api/v1/push'],
    ] as const) {
      const endpoint = findBlocks(findBlocks(file.blocks, component, 'irin')[0]!.blocks, 'endpoint')[0]!;
      assert.equal(strValue(attr(endpoint, 'url')), 'https://metrics.example.com' + path);
      const auth = findBlocks(endpoint.blocks, 'basic_auth')[0]!;
      assert.equal(strValue(attr(auth, 'username')), value.replaceAll(':', ''));
      assert.equal(strValue(attr(auth, 'password')), value);
    }
  }
});

test('Alloy: secrets stay out of the file by default; the placeholder marks an unknown inline secret', () => {
  const env = generateAlloyConfig({ ...BASE, secret: 'TOPSECRET' });
  assert.ok(!env.includes('TOPSECRET'));
  const auths = parseAlloy(env)
    .blocks.flatMap((b) => b.blocks)
    .filter((b) => b.name === 'endpoint')
    .map((e) => attr(findBlocks(e.blocks, 'basic_auth')[0]!, 'password'));
  assert.deepEqual(auths, [
    { kind: 'call', fn: 'sys.env', args: [{ kind: 'string', value: 'IRIN_PUSH_SECRET' }] },
    { kind: 'call', fn: 'sys.env', args: [{ kind: 'string', value: 'IRIN_PUSH_SECRET' }] },
  ]);
  assert.ok(
    generateAlloyConfig(BASE, { secretSource: 'inline' }).includes(
      `password = ${alloyString(SECRET_PLACEHOLDER)}`,
    ),
  );

  const cf = parseAlloy(
    generateAlloyConfig({ ...BASE, authStyle: 'cf-access', secret: 'S' }, { secretSource: 'inline' }),
  );
  const endpoint = findBlocks(findBlocks(cf.blocks, 'loki.write')[0]!.blocks, 'endpoint')[0]!;
  assert.deepEqual(attr(endpoint, 'http_headers'), {
    kind: 'object',
    entries: [
      ['CF-Access-Client-Id', { kind: 'array', items: [{ kind: 'string', value: BASE.clientId }] }],
      ['CF-Access-Client-Secret', { kind: 'array', items: [{ kind: 'string', value: 'S' }] }],
    ],
  });
});

test('the Prometheus agent configuration equals its golden file and is valid for promtool', () => {
  const text = generatePrometheusAgentConfig(BASE, { passwordFile: '/etc/prometheus/irin-push-secret' });
  // .golden, not .yml: formatters must not rewrite the expected output.
  assertGolden('prometheus-agent.yml.golden', text);
  const parsed = parseYaml(text);
  assert.deepEqual(parsed.scrape_configs, [
    { job_name: 'node', static_configs: [{ targets: ['127.0.0.1:9100'] }] },
  ]);
  assert.deepEqual(parsed.remote_write[0].basic_auth, {
    username: BASE.clientId,
    password_file: '/etc/prometheus/irin-push-secret',
  });
  promtoolAccepts(text);
});

/** Locally without promtool the check is left out; under CI=true missingBinaries fails the test. */
function promtoolAccepts(text: string): void {
  if (missingBinaries(PROMTOOL_BIN)) return;
  const dir = mkdtempSync(join(tmpdir(), 'irin-promtool-'));
  try {
    writeFileSync(join(dir, 'agent.yml'), text);
    const r = spawnSync(PROMTOOL_BIN, ['check', 'config', '--agent', join(dir, 'agent.yml')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `promtool rejected the configuration:\n${r.stdout}${r.stderr}\n${text}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('Prometheus YAML: hostile values parse back exactly (yaml package) and promtool accepts them', () => {
  const url = normaliseBaseUrl(HOSTILE_URL);
  assert.match(url, /\$\(id\)/, 'the hostile URL keeps its shell-special characters');
  for (const value of HOSTILE_VALUES) {
    const clientId = value.replaceAll(':', '');
    const text = generatePrometheusAgentConfig({
      ...BASE,
      irinUrl: HOSTILE_URL,
      instance: value,
      tenantSlug: value,
      clientId,
      secret: value,
    });
    assert.ok(
      !/[\u0085\u2028\u2029\u007f-\u009f]/.test(text),
      'YAML 1.1 line breaks and C1 controls are escaped',
    );
    const rw = parseYaml(text).remote_write[0];
    assert.equal(rw.url, url + '/api/v1/write');
    assert.deepEqual(rw.basic_auth, { username: clientId, password: value });
    assert.deepEqual(rw.write_relabel_configs, [
      { action: 'replace', target_label: 'tenant', replacement: literalReplacement(value) },
      { action: 'replace', target_label: 'instance', replacement: literalReplacement(value) },
    ]);
  }
  // promtool (Go's YAML reader) over every hostile value at once: one remote_write per value,
  // serialised the same way the generator does.
  const entries = HOSTILE_VALUES.map((value, i) => ({
    ...parseYaml(
      generatePrometheusAgentConfig({ ...BASE, irinUrl: HOSTILE_URL, instance: value, secret: value }),
    ).remote_write[0],
    name: `irin${i}`,
  }));
  const combined = toPrometheusYaml(
    new Document({ ...parseYaml(generatePrometheusAgentConfig(BASE)), remote_write: entries }),
  );
  assert.deepEqual(parseYaml(combined).remote_write, entries);
  promtoolAccepts(combined);
});

test('relabel replacements: $ is doubled so Prometheus and Alloy write the value literally', () => {
  assert.equal(literalReplacement('a$1b${2}$$'), 'a$$1b$${2}$$$$');
  assert.equal(literalReplacement('plain'), 'plain');
});

test('shell quoting: bash prints every hostile value back exactly', () => {
  const values = HOSTILE_VALUES.filter((v) => !v.includes('\0'));
  const script = values.map((v) => `printf '%s\\0' ${shellQuote(v)}`).join('\n');
  execFileSync('bash', ['-n', '-c', script]);
  const out = execFileSync('bash', ['-c', script], { encoding: 'utf8' });
  assert.deepEqual(out.split('\0').slice(0, -1), values);
  assert.throws(() => shellQuote('nul\0byte'), /NUL/);
});

test('inputs are validated with messages that name the problem', () => {
  const cases: [Partial<OnboardingInput>, RegExp][] = [
    [{ irinUrl: 'metrics.example.com' }, /not an absolute URL/],
    [{ irinUrl: 'ftp://metrics.example.com' }, /must be http or https/],
    [{ irinUrl: 'https://u:p@metrics.example.com' }, /must not contain credentials/],
    [{ irinUrl: 'https://metrics.example.com/?x=1' }, /query string or fragment/],
    [{ tenantLabel: 'bad-label' }, /not a valid label name/],
    [{ tenantLabel: '__tenant' }, /not a valid label name/],
    [{ instance: '' }, /instance name is required/],
    [{ clientId: 'a:b' }, /cannot contain ":"/],
    [{ instance: 'lone \ud800 surrogate' }, /lone UTF-16 surrogate/],
    [{ secret: 'nul\0' }, /NUL/],
  ];
  for (const [patch, message] of cases) {
    assert.throws(
      () => generatePrometheusAgentConfig({ ...BASE, ...patch }),
      (err: unknown) => err instanceof ValidationError && message.test(err.message),
    );
  }
  assert.equal(
    normaliseBaseUrl('https://Metrics.Example.com:443/irin//'),
    'https://metrics.example.com/irin',
  );
  assert.throws(
    () => generatePrometheusAgentConfig({ ...BASE, authStyle: 'cf-access' }, { passwordFile: '/x' }),
    /password file works with basic auth only/,
  );
  assert.throws(
    () => generatePrometheusAgentConfig(BASE, { scrapeInterval: '15 seconds' }),
    /not a Prometheus duration/,
  );
});
