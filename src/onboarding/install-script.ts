import { ValidationError } from '../tenancy/errors.ts';
import { commentValue, shellQuote } from './escape.ts';
import { generatePrometheusAgentConfig, type PrometheusAgentOptions } from './prometheus-agent.ts';
import { resolveTarget, SECRET_ENV_VAR, type OnboardingInput } from './target.ts';

/**
 * The install script for Debian and Ubuntu: Prometheus in agent mode plus node_exporter, both
 * from the distribution's packages (Grafana Alloy is not packaged by Debian, so `--alloy` only
 * prints how to set it up). The configuration is the one generatePrometheusAgentConfig writes,
 * with the secret kept in a password file; every value is a single-quoted shell word.
 *
 * Idempotent: a file is rewritten only when its content, mode or owner differ, packages are
 * installed only when missing, and Prometheus is restarted only when something changed.
 */

export const AGENT_CONFIG_PATH = '/etc/prometheus/irin-agent.yml';
export const AGENT_SECRET_PATH = '/etc/prometheus/irin-push-secret';
export const AGENT_STORAGE_PATH = '/var/lib/prometheus/irin-agent';
/** The agent's own HTTP port (health, /metrics) stays on loopback. */
export const AGENT_LISTEN_ADDRESS = '127.0.0.1:9090';

export type InstallScriptOptions = Pick<
  PrometheusAgentOptions,
  'nodeExporterAddress' | 'scrapeInterval' | 'batchSendDeadline'
>;

/** Values written into /etc/default/prometheus between double quotes must need no escaping. */
const PLAIN_ARG = /^[A-Za-z0-9_=./:,-]+$/;

export function generateInstallScript(input: OnboardingInput, options: InstallScriptOptions = {}): string {
  const t = resolveTarget(input);
  if (t.authStyle !== 'basic') {
    throw new ValidationError(
      'the install script configures basic auth (the password stays in a 0600 file); for Cloudflare Access headers use the Prometheus or Alloy configuration directly',
    );
  }
  const config = generatePrometheusAgentConfig(
    { ...input, secret: undefined },
    { ...options, passwordFile: AGENT_SECRET_PATH },
  );
  const staticArgs = [
    `--config.file=${AGENT_CONFIG_PATH}`,
    `--storage.agent.path=${AGENT_STORAGE_PATH}`,
    `--web.listen-address=${AGENT_LISTEN_ADDRESS}`,
  ];
  for (const arg of staticArgs)
    if (!PLAIN_ARG.test(arg)) throw new Error(`internal: unsafe Prometheus argument ${arg}`);

  const checkCommand = `irin server check ${t.instance} --tenant ${t.tenantSlug}`;
  return `#!/usr/bin/env bash
# Irin agent installer for server ${commentValue(t.instance)} of tenant ${commentValue(t.tenantSlug)}.
#
# Installs Prometheus (in agent mode) and node_exporter from the distribution's packages, writes the
# agent configuration (${AGENT_CONFIG_PATH}) and the push secret (${AGENT_SECRET_PATH}), both
# mode 0600 owned by the prometheus user, points /etc/default/prometheus at them and (re)starts the
# services. Re-running it changes nothing unless something differs. Prometheus's own HTTP port is
# moved to ${AGENT_LISTEN_ADDRESS}.
#
#   sudo bash install-irin-agent.sh             # secret embedded in this script (keep it private)
#   sudo ${SECRET_ENV_VAR}=<secret> bash install-irin-agent.sh
#   bash install-irin-agent.sh --alloy          # how to use Grafana Alloy instead (not in Debian)
#
# IRIN_INSTALL_ROOT=<dir> writes every file under <dir> instead of / (used by Irin's tests).
set -euo pipefail
umask 077

irin_url=${shellQuote(t.remoteWriteUrl)}
tenant=${shellQuote(t.tenantSlug)}
instance=${shellQuote(t.instance)}
embedded_secret=${shellQuote(t.secret ?? '')}
agent_config=${shellQuote(config)}

root="\${IRIN_INSTALL_ROOT:-}"
file_owner="\${IRIN_FILE_OWNER:-prometheus}"

if [ "\${1:-}" = "--alloy" ]; then
  cat <<'ALLOY'
Grafana Alloy is not packaged by Debian or Ubuntu. To use it instead of Prometheus:
  1. Install the "alloy" package from Grafana's apt repository:
     https://grafana.com/docs/alloy/latest/set-up/install/linux/
  2. Save the Alloy configuration Irin generated for this server (irin server config --format alloy)
     as /etc/alloy/config.alloy, mode 0640, group alloy.
  3. Add the push secret to Alloy's environment file, readable by root only:
       echo 'IRIN_PUSH_SECRET=<secret>' | sudo tee -a /etc/default/alloy >/dev/null
       sudo chmod 0600 /etc/default/alloy
  4. Let Alloy read the nginx logs and the journal:
       sudo usermod -aG adm,systemd-journal alloy
  5. sudo systemctl enable --now alloy && sudo systemctl restart alloy
ALLOY
  exit 0
fi

secret="\${${SECRET_ENV_VAR}:-$embedded_secret}"
if [ -z "$secret" ]; then
  echo "error: the push token's secret is not in this script; run it with ${SECRET_ENV_VAR}=<secret>" >&2
  exit 2
fi
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "error: run this script as root (sudo)" >&2
  exit 1
fi

changed=()

# put_file PATH MODE OWNER CONTENT: writes CONTENT to PATH atomically, unless PATH already has
# exactly that content, mode and owner.
put_file() {
  local path="$root$1" mode="$2" owner="$3" content="$4" dir tmp
  if [ -f "$path" ] && [ "$(stat -c '%a %U' "$path")" = "$mode $owner" ] &&
    printf '%s' "$content" | cmp -s - "$path"; then
    return 0
  fi
  dir="$(dirname "$path")"
  mkdir -p "$dir"
  tmp="$(mktemp "$dir/.irin.XXXXXX")"
  printf '%s' "$content" >"$tmp"
  chown "$owner:" "$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$path"
  changed+=("$1")
}

# 1. Packages, from the distribution.
missing=()
for pkg in prometheus prometheus-node-exporter; do
  if ! dpkg-query -W -f='\${Status}\\n' "$pkg" 2>/dev/null | grep -qx 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ \${#missing[@]} -gt 0 ]; then
  echo "Installing \${missing[*]} from the distribution's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "\${missing[@]}" >/dev/null
  changed+=(packages)
fi

# 2. Agent mode: Prometheus 2.32+ takes --enable-feature=agent, 3.x takes --agent.
version="$(prometheus --version 2>/dev/null | sed -n 's/^prometheus, version \\([0-9][0-9]*\\)\\.\\([0-9][0-9]*\\).*/\\1 \\2/p')"
read -r major minor <<<"$version" || true
if [ -z "\${major:-}" ]; then
  echo "error: cannot tell the installed Prometheus version (prometheus --version)" >&2
  exit 1
elif [ "$major" -ge 3 ]; then
  agent_flag=--agent
elif [ "$major" -eq 2 ] && [ "$minor" -ge 32 ]; then
  agent_flag=--enable-feature=agent
else
  echo "error: Prometheus $major.$minor has no agent mode (2.32 or later needed); use Grafana Alloy instead (--alloy)" >&2
  exit 1
fi

# 3. The configuration, checked before it replaces anything.
if command -v promtool >/dev/null 2>&1; then
  check="$(mktemp)"
  printf '%s' "$agent_config" >"$check"
  if ! promtool check config "$check" >/dev/null; then
    rm -f "$check"
    echo "error: promtool rejected the generated configuration" >&2
    exit 1
  fi
  rm -f "$check"
fi
put_file ${AGENT_SECRET_PATH} 600 "$file_owner" "$secret"
put_file ${AGENT_CONFIG_PATH} 600 "$file_owner" "$agent_config"
mkdir -p "$root${AGENT_STORAGE_PATH}"
chown "$file_owner:" "$root${AGENT_STORAGE_PATH}"
chmod 0750 "$root${AGENT_STORAGE_PATH}"

# 4. /etc/default/prometheus: our ARGS line, every other line kept.
defaults="$root/etc/default/prometheus"
kept=""
if [ -f "$defaults" ]; then
  kept="$(grep -v '^ARGS=' "$defaults" || true)"
  defaults_owner="$(stat -c '%U' "$defaults")"
else
  defaults_owner=root
fi
args_line="ARGS=\\"$agent_flag ${staticArgs.join(' ')}\\""
put_file /etc/default/prometheus 644 "$defaults_owner" "\${kept:+$kept
}$args_line
"

# 5. Services: enabled, running, and Prometheus restarted when something changed.
for svc in prometheus-node-exporter prometheus; do
  systemctl is-enabled --quiet "$svc" || systemctl enable --quiet "$svc"
done
systemctl is-active --quiet prometheus-node-exporter || systemctl start prometheus-node-exporter
if [ \${#changed[@]} -gt 0 ]; then
  echo "Changed: \${changed[*]}; restarting prometheus"
  systemctl restart prometheus
else
  echo "Nothing changed"
  systemctl is-active --quiet prometheus || systemctl start prometheus
fi
printf 'Prometheus agent pushes to %s as tenant %s, instance %s.\\n' "$irin_url" "$tenant" "$instance"
printf 'Ask your Irin provider to confirm arrival (%s).\\n' ${shellQuote(checkCommand)}
`;
}
