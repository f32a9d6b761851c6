import { useState } from 'react';
import type { PushSettings } from '../types.ts';
import { CopyField, SecretNotice, Tabs } from './ui.tsx';

type Tab = 'alloy' | 'prometheus' | 'script' | 'raw';

/** A new push token with everything an agent needs, shown once. */
export function PushSettingsView({ settings }: { settings: PushSettings }) {
  const hasConfigs = settings.alloyConfig !== null;
  const [tab, setTab] = useState<Tab>(hasConfigs ? 'alloy' : 'raw');
  const tabs: { id: Tab; label: string }[] = [
    ...(hasConfigs
      ? [
          { id: 'alloy' as const, label: 'Grafana Alloy' },
          { id: 'prometheus' as const, label: 'Prometheus agent' },
          { id: 'script' as const, label: 'Install script' },
        ]
      : []),
    { id: 'raw', label: 'Raw settings' },
  ];
  return (
    <div className="settings">
      <SecretNotice />
      {settings.instance ? (
        <p className="small">
          This token is bound to server <strong className="mono">{settings.instance}</strong>: Irin sets{' '}
          <code>instance="{settings.instance}"</code> on everything pushed with it.
        </p>
      ) : (
        <p className="small">
          This token is organisation-wide: whatever it pushes keeps its own instance label.
        </p>
      )}
      <Tabs label="Agent configuration" value={tab} onChange={setTab} tabs={tabs} />
      {tab === 'alloy' && settings.alloyConfig ? (
        <>
          <ol className="steps small">
            <li>
              Install Grafana Alloy on the server (Grafana's apt repository; see grafana.com/docs/alloy).
            </li>
            <li>
              Put this in <code>/etc/alloy/config.alloy</code> (mode 0600: it holds the secret) and restart
              Alloy.
            </li>
            <li>The server shows as “up” here within a minute.</li>
          </ol>
          <CopyField label="config.alloy" value={settings.alloyConfig} multiline />
        </>
      ) : null}
      {tab === 'prometheus' && settings.prometheusConfig ? (
        <>
          <p className="small">Prometheus in agent mode scraping node_exporter on 127.0.0.1:9100.</p>
          <CopyField label="Prometheus agent configuration" value={settings.prometheusConfig} multiline />
        </>
      ) : null}
      {tab === 'script' && settings.installScript ? (
        <>
          <ol className="steps small">
            <li>
              Save this as <code>install-irin-agent.sh</code> on the server (Debian or Ubuntu).
            </li>
            <li>
              Run <code>sudo bash install-irin-agent.sh</code>: it installs Prometheus (agent mode) and
              node_exporter and configures them. Running it again changes nothing.
            </li>
          </ol>
          <CopyField label="install-irin-agent.sh" value={settings.installScript} multiline />
        </>
      ) : null}
      {tab === 'raw' ? (
        <div className="grid-2">
          <CopyField label="Remote write URL" value={settings.remoteWriteUrl} />
          <CopyField label="Loki push URL" value={settings.lokiPushUrl} />
          <CopyField label="Client id (basic-auth user, CF-Access-Client-Id)" value={settings.clientId} />
          <CopyField label="Secret (basic-auth password, CF-Access-Client-Secret)" value={settings.secret} />
          <CopyField label="Authorization header" value={`Bearer ${settings.bearerToken}`} />
        </div>
      ) : null}
    </div>
  );
}
