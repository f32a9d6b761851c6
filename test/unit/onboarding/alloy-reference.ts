import { parseAlloy, type Block, type Value } from './alloy-syntax.ts';

/**
 * The part of Alloy's component reference Irin's generated configuration may use: components,
 * their arguments, nested blocks and exported fields, and standard-library functions, each copied
 * from the reference page named in `doc` (read for this allow-list; the pages are listed in
 * src/onboarding/README.md). A generated file that uses anything else fails the check.
 */

interface BlockSpec {
  readonly attrs: readonly string[];
  readonly blocks?: Readonly<Record<string, BlockSpec>>;
}

interface ComponentSpec extends BlockSpec {
  readonly doc: string;
  readonly exports: readonly string[];
}

const DOCS = 'https://grafana.com/docs/alloy/latest/reference';

/** Shared `basic_auth` block (reference/components/basic-auth-block). */
const BASIC_AUTH: BlockSpec = { attrs: ['password_file', 'password', 'username'] };

/** Shared `rule` block (reference/components/rule-block and rule-block-logs: same arguments). */
const RULE: BlockSpec = {
  attrs: ['action', 'modulus', 'regex', 'replacement', 'separator', 'source_labels', 'target_label'],
};

export const RELABEL_ACTIONS = [
  'drop',
  'dropequal',
  'hashmod',
  'keep',
  'keepequal',
  'labeldrop',
  'labelkeep',
  'labelmap',
  'lowercase',
  'replace',
  'uppercase',
];

export const COMPONENTS: Readonly<Record<string, ComponentSpec>> = {
  'prometheus.exporter.unix': {
    doc: `${DOCS}/components/prometheus/prometheus.exporter.unix/`,
    attrs: [
      'disable_collectors',
      'enable_collectors',
      'include_exporter_metrics',
      'procfs_path',
      'rootfs_path',
      'set_collectors',
      'sysfs_path',
      'udev_data_path',
    ],
    exports: ['targets'],
  },
  'prometheus.scrape': {
    doc: `${DOCS}/components/prometheus/prometheus.scrape/`,
    attrs: [
      'forward_to',
      'targets',
      'bearer_token_file',
      'bearer_token',
      'body_size_limit',
      'enable_compression',
      'enable_http2',
      'extra_metrics',
      'follow_redirects',
      'http_headers',
      'honor_labels',
      'honor_timestamps',
      'job_name',
      'label_limit',
      'label_name_length_limit',
      'label_value_length_limit',
      'metrics_path',
      'params',
      'proxy_url',
      'sample_limit',
      'scheme',
      'scrape_interval',
      'scrape_timeout',
      'target_limit',
    ],
    exports: [],
  },
  'prometheus.relabel': {
    doc: `${DOCS}/components/prometheus/prometheus.relabel/`,
    attrs: ['forward_to', 'max_cache_size'],
    blocks: { rule: RULE },
    exports: ['receiver', 'rules'],
  },
  'prometheus.remote_write': {
    doc: `${DOCS}/components/prometheus/prometheus.remote_write/`,
    attrs: ['external_labels'],
    blocks: {
      endpoint: {
        attrs: [
          'url',
          'bearer_token_file',
          'bearer_token',
          'enable_http2',
          'follow_redirects',
          'http_headers',
          'headers',
          'name',
          'no_proxy',
          'protobuf_message',
          'proxy_connect_header',
          'proxy_from_environment',
          'proxy_url',
          'remote_timeout',
          'round_robin_dns',
          'send_exemplars',
          'send_native_histograms',
        ],
        blocks: {
          basic_auth: BASIC_AUTH,
          queue_config: {
            attrs: [
              'batch_send_deadline',
              'capacity',
              'max_backoff',
              'max_samples_per_send',
              'max_shards',
              'min_backoff',
              'min_shards',
              'retry_on_http_429',
              'sample_age_limit',
            ],
          },
          metadata_config: { attrs: ['max_samples_per_send', 'send_interval', 'send'] },
        },
      },
      wal: { attrs: ['truncate_frequency', 'min_keepalive_time', 'max_keepalive_time'] },
    },
    exports: ['receiver'],
  },
  'local.file_match': {
    doc: `${DOCS}/components/local/local.file_match/`,
    attrs: ['path_targets', 'sync_period', 'ignore_older_than'],
    exports: ['targets'],
  },
  'loki.source.file': {
    doc: `${DOCS}/components/loki/loki.source.file/`,
    attrs: ['forward_to', 'targets', 'encoding', 'legacy_positions_file', 'tail_from_end'],
    blocks: {
      decompression: { attrs: ['enabled', 'format', 'initial_delay'] },
      file_watch: { attrs: ['max_poll_frequency', 'min_poll_frequency'] },
    },
    exports: [],
  },
  'loki.source.journal': {
    doc: `${DOCS}/components/loki/loki.source.journal/`,
    attrs: ['forward_to', 'format_as_json', 'labels', 'matches', 'max_age', 'path', 'relabel_rules'],
    exports: [],
  },
  'loki.relabel': {
    doc: `${DOCS}/components/loki/loki.relabel/`,
    attrs: ['forward_to', 'max_cache_size'],
    blocks: { rule: RULE },
    exports: ['receiver', 'rules'],
  },
  'loki.write': {
    doc: `${DOCS}/components/loki/loki.write/`,
    attrs: ['external_labels', 'max_streams'],
    blocks: {
      endpoint: {
        attrs: [
          'url',
          'batch_size',
          'batch_wait',
          'bearer_token_file',
          'bearer_token',
          'enable_http2',
          'follow_redirects',
          'http_headers',
          'headers',
          'max_backoff_period',
          'max_backoff_retries',
          'min_backoff_period',
          'name',
          'no_proxy',
          'proxy_connect_header',
          'proxy_from_environment',
          'proxy_url',
          'remote_timeout',
          'retry_on_http_429',
          'tenant_id',
        ],
        blocks: { basic_auth: BASIC_AUTH },
      },
    },
    exports: ['receiver'],
  },
};

/** Standard-library functions (reference/stdlib/sys: `sys.env`). */
export const FUNCTIONS = ['sys.env'];

/**
 * Every problem with a configuration: unknown components, arguments or blocks, duplicate
 * component labels, references to components or exports that do not exist, unknown functions,
 * unknown relabel actions. An empty list means the file only uses what the reference documents.
 */
export function checkAgainstReference(text: string): string[] {
  const problems: string[] = [];
  const file = parseAlloy(text);
  for (const a of file.attributes)
    problems.push(`line ${a.line}: top-level attribute "${a.name}" is not used by Irin`);
  const declared = new Map<string, string>();
  for (const b of file.blocks) {
    const spec = COMPONENTS[b.name];
    if (!spec) {
      problems.push(`line ${b.line}: "${b.name}" is not an allowed component`);
      continue;
    }
    if (b.label === undefined) problems.push(`line ${b.line}: component ${b.name} needs a label`);
    const id = `${b.name}.${b.label}`;
    if (declared.has(id)) problems.push(`line ${b.line}: component ${id} is declared twice`);
    declared.set(id, b.name);
    checkBlock(b, spec, b.name, problems);
  }
  const refs: { path: string; line: number }[] = [];
  const walk = (v: Value, line: number): void => {
    if (v.kind === 'ref') refs.push({ path: v.path, line });
    if (v.kind === 'array') v.items.forEach((x) => walk(x, line));
    if (v.kind === 'object') v.entries.forEach(([, x]) => walk(x, line));
    if (v.kind === 'call') {
      if (!FUNCTIONS.includes(v.fn))
        problems.push(`line ${line}: function ${v.fn} is not an allowed standard-library function`);
      if (v.fn === 'sys.env' && (v.args.length !== 1 || v.args[0]!.kind !== 'string')) {
        problems.push(`line ${line}: sys.env takes one string argument`);
      }
      v.args.forEach((x) => walk(x, line));
    }
  };
  const visit = (b: Block): void => {
    for (const a of b.attributes) {
      walk(a.value, a.line);
      if (a.name === 'action' && b.name === 'rule') {
        if (a.value.kind !== 'string' || !RELABEL_ACTIONS.includes(a.value.value))
          problems.push(`line ${a.line}: unknown relabel action`);
      }
    }
    b.blocks.forEach(visit);
  };
  file.blocks.forEach(visit);
  for (const { path, line } of refs) {
    const parts = path.split('.');
    const field = parts.pop()!;
    const id = parts.join('.');
    const component = declared.get(id);
    if (component === undefined) problems.push(`line ${line}: reference ${path} names no declared component`);
    else if (!COMPONENTS[component]!.exports.includes(field))
      problems.push(`line ${line}: ${component} exports no field "${field}"`);
  }
  return problems;
}

function checkBlock(b: Block, spec: BlockSpec, where: string, problems: string[]): void {
  const seen = new Set<string>();
  for (const a of b.attributes) {
    if (!spec.attrs.includes(a.name)) problems.push(`line ${a.line}: ${where} has no argument "${a.name}"`);
    if (seen.has(a.name)) problems.push(`line ${a.line}: ${where}.${a.name} is set twice`);
    seen.add(a.name);
  }
  for (const inner of b.blocks) {
    const innerSpec = spec.blocks?.[inner.name];
    if (!innerSpec) {
      problems.push(`line ${inner.line}: ${where} has no block "${inner.name}"`);
      continue;
    }
    if (inner.label !== undefined)
      problems.push(`line ${inner.line}: nested block ${inner.name} takes no label`);
    checkBlock(inner, innerSpec, `${where} > ${inner.name}`, problems);
  }
}
