import { alloyString, commentValue, literalReplacement } from './escape.ts';
import {
  resolveTarget,
  SECRET_ENV_VAR,
  SECRET_PLACEHOLDER,
  type OnboardingInput,
  type OnboardingTarget,
} from './target.ts';

/**
 * Grafana Alloy configuration for one server: node metrics (the embedded node_exporter) and logs
 * (nginx access/error logs, the systemd journal) pushed to Irin with the tenant and instance
 * labels pinned. Every component, block and attribute used here is one Alloy's reference documents;
 * src/onboarding/README.md lists the pages, and test/golden/alloy.river is the checked output.
 */

export interface AlloyOptions {
  /**
   * `env` (default): the secret is read at run time with `sys.env("IRIN_PUSH_SECRET")`, so the
   * file holds no secret. `inline`: the secret (or the placeholder when unknown) is written in.
   */
  readonly secretSource?: 'env' | 'inline';
  /** Default `15s`. */
  readonly scrapeInterval?: string;
}

export const NGINX_ACCESS_LOG = '/var/log/nginx/access.log';
export const NGINX_ERROR_LOG = '/var/log/nginx/error.log';

// --- a minimal writer for the Alloy syntax ---------------------------------------------------

/** An Alloy expression, already rendered (strings escaped by alloyString). */
type Expr = string;

type Stmt =
  | { readonly attr: string; readonly value: Expr }
  | {
      readonly block: string;
      readonly label?: string;
      readonly body: readonly Stmt[];
      readonly comment?: string;
    };

const attr = (name: string, value: Expr): Stmt => ({ attr: name, value });
const block = (name: string, label: string | undefined, body: readonly Stmt[], comment?: string): Stmt => ({
  block: name,
  ...(label === undefined ? {} : { label }),
  body,
  ...(comment === undefined ? {} : { comment }),
});

const str = (value: string): Expr => alloyString(value);
const list = (items: readonly Expr[]): Expr => `[${items.join(', ')}]`;

/** An object on several lines, keys quoted (label names such as `__path__` are fine as identifiers, but quoting is always valid). */
function object(entries: readonly (readonly [string, Expr])[], multiline: boolean): Expr {
  if (!multiline) return `{${entries.map(([k, v]) => `${alloyString(k)} = ${v}`).join(', ')}}`;
  const width = Math.max(...entries.map(([k]) => alloyString(k).length));
  return `{\n${entries.map(([k, v]) => `  ${alloyString(k).padEnd(width)} = ${v},`).join('\n')}\n}`;
}

function indentLines(text: string, indent: string): string {
  return text.split('\n').join('\n' + indent);
}

/** Renders statements the way `alloy fmt` lays them out: `=` aligned within runs of attributes. */
function render(stmts: readonly Stmt[], indent = ''): string {
  const out: string[] = [];
  let i = 0;
  while (i < stmts.length) {
    const s = stmts[i]!;
    if ('attr' in s) {
      const run: { attr: string; value: Expr }[] = [];
      while (i < stmts.length && 'attr' in stmts[i]!) run.push(stmts[i++] as { attr: string; value: Expr });
      const width = Math.max(...run.map((a) => a.attr.length));
      out.push(
        run.map((a) => `${indent}${a.attr.padEnd(width)} = ${indentLines(a.value, indent)}`).join('\n'),
      );
      continue;
    }
    const head = s.label === undefined ? s.block : `${s.block} ${alloyString(s.label)}`;
    const comment =
      s.comment === undefined
        ? ''
        : s.comment
            .split('\n')
            .map((l) => `${indent}// ${l}\n`)
            .join('');
    out.push(
      comment +
        (s.body.length === 0
          ? `${indent}${head} { }`
          : `${indent}${head} {\n${render(s.body, indent + '  ')}\n${indent}}`),
    );
    i++;
  }
  return out.join('\n\n');
}

// --- the configuration -------------------------------------------------------------------------

/** `replace` rules that set each label to a fixed value, whatever the source sent. */
function pinRules(pins: readonly (readonly [string, string])[]): Stmt[] {
  return pins.map(([label, value]) =>
    block('rule', undefined, [
      attr('action', str('replace')),
      attr('target_label', str(label)),
      attr('replacement', str(literalReplacement(value))),
    ]),
  );
}

function secretExpr(t: OnboardingTarget, source: 'env' | 'inline'): Expr {
  return source === 'env' ? `sys.env(${str(SECRET_ENV_VAR)})` : str(t.secret ?? SECRET_PLACEHOLDER);
}

/** The endpoint block shared by prometheus.remote_write and loki.write. */
function endpoint(url: string, t: OnboardingTarget, source: 'env' | 'inline'): Stmt {
  const secret = secretExpr(t, source);
  if (t.authStyle === 'cf-access') {
    return block('endpoint', undefined, [
      attr('url', str(url)),
      attr(
        'http_headers',
        object(
          [
            ['CF-Access-Client-Id', list([str(t.clientId)])],
            ['CF-Access-Client-Secret', list([secret])],
          ],
          true,
        ),
      ),
    ]);
  }
  return block('endpoint', undefined, [
    attr('url', str(url)),
    block('basic_auth', undefined, [attr('username', str(t.clientId)), attr('password', secret)]),
  ]);
}

function header(t: OnboardingTarget, source: 'env' | 'inline'): string {
  const lines = [
    `Grafana Alloy configuration generated by Irin for server ${commentValue(t.instance)} of tenant ${commentValue(t.tenantSlug)}.`,
    "Install it as /etc/alloy/config.alloy (Alloy is not in Debian: use Grafana's apt repository).",
    'Irin pins the tenant and instance labels on its side as well; the rules below make the agent agree.',
    'Reading the nginx logs and the journal needs the alloy user in the adm and systemd-journal groups.',
  ];
  if (source === 'env') {
    lines.push(
      `The push secret is read from the environment variable ${SECRET_ENV_VAR}: add`,
      `  ${SECRET_ENV_VAR}=<secret>`,
      "to /etc/default/alloy (the systemd unit's EnvironmentFile) and make that file mode 0600.",
    );
  } else if (t.secret === undefined) {
    lines.push(
      `Replace ${SECRET_PLACEHOLDER} with the push token's secret. This file then holds a secret: mode 0600.`,
    );
  } else {
    lines.push("This file contains the push token's secret: keep it mode 0600, readable only by Alloy.");
  }
  return lines.map((l) => `// ${l}`).join('\n');
}

export function generateAlloyConfig(input: OnboardingInput, options: AlloyOptions = {}): string {
  const t = resolveTarget(input);
  const source = options.secretSource ?? 'env';
  const pins: [string, string][] = [
    [t.tenantLabel, t.tenantSlug],
    ['instance', t.instance],
  ];

  const metrics: Stmt[] = [
    block('prometheus.exporter.unix', 'node', []),
    block('prometheus.scrape', 'node', [
      attr('targets', 'prometheus.exporter.unix.node.targets'),
      attr('forward_to', list(['prometheus.relabel.irin.receiver'])),
      attr('job_name', str('node')),
      attr('scrape_interval', str(options.scrapeInterval ?? '15s')),
    ]),
    block(
      'prometheus.relabel',
      'irin',
      [
        attr('forward_to', list(['prometheus.remote_write.irin.receiver'])),
        ...pinRules([...pins, ['job', 'node']]),
      ],
      "Pins the tenant and instance labels. The job is pinned too: the exporter's targets carry\n" +
        'job="integrations/unix", which wins over job_name, and Irin\'s dashboards select job="node".',
    ),
    block('prometheus.remote_write', 'irin', [endpoint(t.remoteWriteUrl, t, source)]),
  ];

  const logs: Stmt[] = [
    block('local.file_match', 'nginx', [
      attr(
        'path_targets',
        `[\n  ${indentLines(
          [
            object(
              [
                ['__path__', str(NGINX_ACCESS_LOG)],
                ['job', str('nginx')],
                ['log_type', str('access')],
              ],
              false,
            ),
            object(
              [
                ['__path__', str(NGINX_ERROR_LOG)],
                ['job', str('nginx')],
                ['log_type', str('error')],
              ],
              false,
            ),
          ].join(',\n'),
          '  ',
        )},\n]`,
      ),
    ]),
    block('loki.source.file', 'nginx', [
      attr('targets', 'local.file_match.nginx.targets'),
      attr('forward_to', list(['loki.relabel.irin.receiver'])),
    ]),
    block(
      'loki.relabel',
      'journal',
      [
        attr('forward_to', list([])),
        block('rule', undefined, [
          attr('source_labels', list([str('__journal__systemd_unit')])),
          attr('target_label', str('unit')),
        ]),
      ],
      'Journal fields arrive as __journal_* labels, which are dropped unless relabelled: keep the unit.',
    ),
    block('loki.source.journal', 'journal', [
      attr('forward_to', list(['loki.relabel.irin.receiver'])),
      attr('relabel_rules', 'loki.relabel.journal.rules'),
      attr('labels', object([['job', str('systemd-journal')]], false)),
    ]),
    block(
      'loki.relabel',
      'irin',
      [attr('forward_to', list(['loki.write.irin.receiver'])), ...pinRules(pins)],
      'The same tenant and instance labels on every log stream.',
    ),
    block('loki.write', 'irin', [endpoint(t.lokiPushUrl, t, source)]),
  ];

  return (
    [
      header(t, source),
      '// Metrics: the embedded node_exporter, scraped and pushed with Prometheus remote write.',
      render(metrics),
      '// Logs: nginx access and error logs and the systemd journal, pushed to the Loki push API.',
      render(logs),
    ].join('\n\n') + '\n'
  );
}
