import { useState } from 'react';
import type { PushSettings } from '../types.ts';
import { CopyField, SecretNotice, Tabs } from './ui.tsx';

/** A new push token with everything an agent needs, shown once. */
export function PushSettingsView({ settings }: { settings: PushSettings }) {
  const [tab, setTab] = useState<'alloy' | 'prometheus' | 'raw'>('alloy');
  return (
    <div className="settings">
      <SecretNotice />
      {settings.instance ? (
        <p className="small">
          This token is bound to server <strong className="mono">{settings.instance}</strong>: Irin sets{' '}
          <code>instance="{settings.instance}"</code> on everything pushed with it.
        </p>
      ) : null}
      <Tabs
        label="Agent configuration"
        value={tab}
        onChange={setTab}
        tabs={[
          { id: 'alloy', label: 'Grafana Alloy' },
          { id: 'prometheus', label: 'Prometheus agent' },
          { id: 'raw', label: 'Raw settings' },
        ]}
      />
      {tab === 'alloy' ? (
        <>
          <ol className="steps small">
            <li>Install Grafana Alloy on the server (packages at grafana.com/docs/alloy).</li>
            <li>Put this in <code>/etc/alloy/config.alloy</code> and restart Alloy.</li>
            <li>The server shows as “up” here within a minute.</li>
          </ol>
          <CopyField label="config.alloy" value={settings.alloyConfig} multiline />
        </>
      ) : null}
      {tab === 'prometheus' ? <CopyField label="prometheus.yml (remote_write)" value={settings.prometheusConfig} multiline /> : null}
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
