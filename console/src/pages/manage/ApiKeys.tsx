import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import {
  Button,
  Card,
  CopyField,
  Empty,
  ErrorBox,
  Field,
  Modal,
  PageHeader,
  SecretNotice,
  Spinner,
  StateBadge,
} from '../../components/ui.tsx';
import { ago, date } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { CredentialRow, GrafanaSettings } from '../../types.ts';

function GrafanaSettingsView({ g }: { g: GrafanaSettings }) {
  return (
    <div className="settings">
      <SecretNotice />
      <p className="small">
        In Grafana, add a <strong>Prometheus</strong> data source and a <strong>Loki</strong> data source with
        these settings (Authentication: Basic authentication), or provision both with the file below.
      </p>
      <div className="grid-2">
        <CopyField label="Prometheus data source URL" value={g.prometheusUrl} />
        <CopyField label="Loki data source URL" value={g.lokiUrl} />
        <CopyField label="Basic auth user" value={g.basicAuthUser} />
        <CopyField label="Basic auth password" value={g.basicAuthPassword} />
      </div>
      <CopyField label={`Or as an HTTP header: ${g.headerName}`} value={g.headerValue} />
      <CopyField
        label="Provisioning file (provisioning/datasources/irin.yaml)"
        value={g.provisioning}
        multiline
      />
    </div>
  );
}

export function ApiKeysPage() {
  const keys = useAsync((s) => api.get<CredentialRow[]>('/api/console/api-keys?all=true', s), []);
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [expiresIn, setExpiresIn] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [issued, setIssued] = useState<GrafanaSettings>();

  const close = () => {
    setOpen(false);
    setIssued(undefined);
    setName('');
    setExpiresIn('');
    setError('');
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await api.post<{ grafana: GrafanaSettings }>('/api/console/api-keys', {
        name,
        ...(expiresIn ? { expiresIn } : {}),
      });
      setIssued(r.grafana);
      keys.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (k: CredentialRow) => {
    if (!confirm(`Revoke API key ${k.name || k.clientId}? Anything using it loses access at once.`)) return;
    try {
      await api.del(`/api/console/api-keys/${k.clientId}`);
      keys.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <PageHeader
        title="API keys"
        subtitle="Read-only keys for Grafana, promtool, logcli and scripts: they read this organisation's metrics and logs."
        actions={
          <Button variant="primary" onClick={() => setOpen(true)}>
            + New API key
          </Button>
        }
      />
      {error && !open ? <ErrorBox error={error} /> : null}
      <Card>
        {keys.error ? (
          <ErrorBox error={keys.error} />
        ) : !keys.data ? (
          <Spinner />
        ) : keys.data.length === 0 ? (
          <Empty>No API keys yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Client id</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => (
                  <tr key={k.clientId}>
                    <td className="strong">{k.name || <span className="muted">unnamed</span>}</td>
                    <td className="mono small">{k.clientId}</td>
                    <td>
                      <StateBadge state={k.state ?? 'active'} />
                    </td>
                    <td className="nowrap">{date(k.createdAt)}</td>
                    <td className="nowrap">{k.expiresAt ? date(k.expiresAt) : 'never'}</td>
                    <td>{k.lastUsedAt ? ago(k.lastUsedAt) : 'never'}</td>
                    <td className="actions">
                      {k.state === 'active' ? (
                        <Button size="sm" variant="danger" onClick={() => revoke(k)}>
                          Revoke
                        </Button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Modal
        title={issued ? 'API key created' : 'New API key'}
        open={open}
        onClose={close}
        wide={!!issued}
        done={Boolean(issued)}
      >
        {issued ? (
          <GrafanaSettingsView g={issued} />
        ) : (
          <form onSubmit={submit}>
            <Field label="Name" hint="What uses it, e.g. grafana-prod.">
              {(id) => <input id={id} value={name} onChange={(e) => setName(e.target.value)} autoFocus />}
            </Field>
            <Field label="Expires after" hint="Empty: never. For example 90d or 12h.">
              {(id) => (
                <input
                  id={id}
                  value={expiresIn}
                  onChange={(e) => setExpiresIn(e.target.value)}
                  placeholder="90d"
                  pattern="\d+[smhd]?"
                />
              )}
            </Field>
            {error ? <ErrorBox error={error} /> : null}
            <div className="form-actions">
              <Button onClick={close}>Cancel</Button>
              <Button type="submit" variant="primary" busy={busy}>
                Create key
              </Button>
            </div>
          </form>
        )}
      </Modal>
    </>
  );
}
