import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import { PushSettingsView } from '../../components/PushSettingsView.tsx';
import {
  Button,
  Card,
  Empty,
  ErrorBox,
  Field,
  Modal,
  PageHeader,
  Spinner,
  StateBadge,
} from '../../components/ui.tsx';
import { ago, date, dateTime } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import { Link } from '../../router.tsx';
import type { CredentialRow, PushSettings, ServerRow } from '../../types.ts';

function AddServer({ onAdded }: { onAdded(): void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [result, setResult] = useState<{ settings: PushSettings; server: ServerRow }>();
  const close = () => {
    setOpen(false);
    setResult(undefined);
    setName('');
    setError('');
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setResult(await api.post('/api/console/servers', { name: name.trim() }));
      onAdded();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <Button variant="primary" onClick={() => setOpen(true)}>
        + Add server
      </Button>
      <Modal
        title={result ? `Server ${result.server.name} added` : 'Add a server'}
        open={open}
        onClose={close}
        wide={!!result}
        done={Boolean(result)}
      >
        {result ? (
          <PushSettingsView settings={result.settings} />
        ) : (
          <form onSubmit={submit}>
            <Field
              label="Server name"
              hint="Becomes the instance label of everything this server pushes, e.g. acme-web-1."
            >
              {(id) => (
                <input
                  id={id}
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  required
                  autoFocus
                  pattern="[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}"
                />
              )}
            </Field>
            {error ? <ErrorBox error={error} /> : null}
            <div className="form-actions">
              <Button onClick={close}>Cancel</Button>
              <Button type="submit" variant="primary" busy={busy}>
                Add server and create token
              </Button>
            </div>
          </form>
        )}
      </Modal>
    </>
  );
}

function ServerTokens({ server, onClose }: { server: ServerRow; onClose(): void }) {
  const detail = useAsync(
    (s) =>
      api.get<{
        tokens: CredentialRow[];
        recentRejections: { at: string; status: number; reason: string }[];
      }>(`/api/console/servers/${server.id}`, s),
    [server.id],
  );
  const [issued, setIssued] = useState<PushSettings>();
  const [error, setError] = useState('');
  const newToken = async () => {
    setError('');
    try {
      const r = await api.post<{ settings: PushSettings }>(`/api/console/servers/${server.id}/tokens`, {});
      setIssued(r.settings);
      detail.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const revoke = async (clientId: string) => {
    if (!confirm(`Revoke token ${clientId}? Agents using it stop being accepted at once.`)) return;
    try {
      await api.del(`/api/console/push-tokens/${clientId}`);
      detail.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <Modal
      title={`Server ${server.name}`}
      open
      onClose={onClose}
      wide
      footer={<Button onClick={onClose}>Close</Button>}
    >
      {error ? <ErrorBox error={error} /> : null}
      {issued ? <PushSettingsView settings={issued} /> : null}
      {detail.data ? (
        <>
          <div className="section-head">
            <h3 className="subhead">Push tokens</h3>
            {!issued ? (
              <Button size="sm" onClick={newToken}>
                New token
              </Button>
            ) : null}
          </div>
          <table className="table table-compact">
            <thead>
              <tr>
                <th scope="col">Client id</th>
                <th scope="col">State</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {detail.data.tokens.map((t) => (
                <tr key={t.clientId}>
                  <td className="mono small">{t.clientId}</td>
                  <td>
                    <StateBadge state={t.state ?? 'active'} />
                  </td>
                  <td>{t.lastUsedAt ? `${ago(t.lastUsedAt)} from ${t.lastUsedAddr ?? '?'}` : 'never'}</td>
                  <td className="actions">
                    {t.state === 'active' ? (
                      <Button size="sm" variant="danger" onClick={() => revoke(t.clientId)}>
                        Revoke
                      </Button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3 className="subhead">Recent rejected pushes</h3>
          {detail.data.recentRejections.length === 0 ? (
            <Empty>None.</Empty>
          ) : (
            <table className="table table-compact">
              <tbody>
                {detail.data.recentRejections.map((r, i) => (
                  <tr key={i}>
                    <td className="nowrap">{dateTime(r.at)}</td>
                    <td>{r.status}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : detail.error ? (
        <ErrorBox error={detail.error} />
      ) : (
        <Spinner />
      )}
    </Modal>
  );
}

export function ManageServers() {
  const servers = useAsync((s) => api.get<ServerRow[]>('/api/console/servers', s), []);
  const [selected, setSelected] = useState<ServerRow>();
  const [error, setError] = useState('');
  const remove = async (s: ServerRow) => {
    if (
      !confirm(
        `Remove server ${s.name}? Its push tokens are revoked; its stored metrics stay until retention removes them.`,
      )
    )
      return;
    try {
      await api.del(`/api/console/servers/${s.id}`);
      servers.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <PageHeader
        title="Servers"
        subtitle="Each server pushes with its own token, bound to its name."
        actions={<AddServer onAdded={servers.reload} />}
      />
      {error ? <ErrorBox error={error} /> : null}
      {servers.error ? <ErrorBox error={servers.error} /> : null}
      <Card>
        {!servers.data ? (
          <Spinner />
        ) : servers.data.length === 0 ? (
          <Empty>No servers yet. Add one to get its push token and agent configuration.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Server</th>
                  <th scope="col">State</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {servers.data.map((s) => (
                  <tr key={s.id} data-server={s.name}>
                    <td>
                      <Link to={`/servers/${encodeURIComponent(s.name)}`} className="strong mono">
                        {s.name}
                      </Link>
                    </td>
                    <td>
                      <StateBadge state={s.state} />
                    </td>
                    <td>
                      {s.lastSeenAt
                        ? `${ago(s.lastSeenAt)}${s.lastSeenAddr ? ` from ${s.lastSeenAddr}` : ''}`
                        : 'never'}
                    </td>
                    <td className="nowrap">{date(s.createdAt)}</td>
                    <td className="actions">
                      <Button size="sm" onClick={() => setSelected(s)}>
                        Tokens
                      </Button>
                      <Button size="sm" variant="danger" onClick={() => remove(s)}>
                        Remove
                      </Button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      {selected ? <ServerTokens server={selected} onClose={() => setSelected(undefined)} /> : null}
    </>
  );
}
