import { useState } from 'react';
import { api } from '../../api.ts';
import { Button, Card, Empty, ErrorBox, PageHeader, Spinner, StateBadge } from '../../components/ui.tsx';
import { ago, dateTime } from '../../format.ts';
import { useAsync } from '../../hooks.ts';

interface Row {
  clientId: string;
  kind: 'push' | 'read';
  name: string;
  tenantId: number;
  tenantSlug: string;
  serverName: string | null;
  state: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  lastUsedAddr: string | null;
}

export function AdminCredentials() {
  const [all, setAll] = useState(false);
  const [filter, setFilter] = useState('');
  const rows = useAsync(
    (s) => api.get<Row[]>(`/api/console/platform/credentials${all ? '?all=true' : ''}`, s),
    [all],
  );
  const [error, setError] = useState('');
  const revoke = async (r: Row) => {
    if (!confirm(`Revoke ${r.kind === 'push' ? 'push token' : 'API key'} ${r.clientId} of ${r.tenantSlug}?`))
      return;
    try {
      await api.post(`/api/console/platform/credentials/${r.clientId}/revoke`, { tenantId: r.tenantId });
      rows.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const f = filter.trim().toLowerCase();
  const shown = (rows.data ?? []).filter(
    (r) => !f || `${r.tenantSlug} ${r.clientId} ${r.name} ${r.serverName ?? ''}`.toLowerCase().includes(f),
  );
  return (
    <>
      <PageHeader title="Tokens & keys" subtitle="Push tokens and read API keys of every tenant." />
      {error ? <ErrorBox error={error} /> : null}
      <Card
        actions={
          <div className="toolbar">
            <input
              type="search"
              aria-label="Filter tokens"
              placeholder="Filter by tenant, id, name…"
              value={filter}
              onChange={(e) => setFilter(e.target.value)}
            />
            <label className="check">
              <input type="checkbox" checked={all} onChange={(e) => setAll(e.target.checked)} /> Include
              revoked and expired
            </label>
          </div>
        }
      >
        {rows.error ? (
          <ErrorBox error={rows.error} />
        ) : !rows.data ? (
          <Spinner />
        ) : shown.length === 0 ? (
          <Empty>No tokens.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Client id</th>
                  <th scope="col">Name / server</th>
                  <th scope="col">State</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {shown.map((r) => (
                  <tr key={r.clientId}>
                    <td className="mono small">{r.tenantSlug}</td>
                    <td>{r.kind === 'push' ? 'push token' : 'API key'}</td>
                    <td className="mono small">{r.clientId}</td>
                    <td>
                      {r.serverName ? (
                        <span className="mono">{r.serverName}</span>
                      ) : (
                        r.name || <span className="muted">–</span>
                      )}
                    </td>
                    <td>
                      <StateBadge state={r.state} />
                    </td>
                    <td className="nowrap">{dateTime(r.createdAt)}</td>
                    <td>
                      {r.lastUsedAt
                        ? `${ago(r.lastUsedAt)}${r.lastUsedAddr ? ` from ${r.lastUsedAddr}` : ''}`
                        : 'never'}
                    </td>
                    <td className="actions">
                      {r.state === 'active' ? (
                        <Button size="sm" variant="danger" onClick={() => revoke(r)}>
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
    </>
  );
}
