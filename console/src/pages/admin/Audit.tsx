import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import { AuditTable } from '../../components/AuditTable.tsx';
import { Card, ErrorBox, PageHeader, Spinner } from '../../components/ui.tsx';
import { useAsync } from '../../hooks.ts';
import type { AuditEntry, TenantRow } from '../../types.ts';

export function AdminAudit() {
  const [tenant, setTenant] = useState('');
  const [action, setAction] = useState('');
  const [since, setSince] = useState('24h');
  const [applied, setApplied] = useState({ tenant: '', action: '', since: '24h' });
  const tenants = useAsync((s) => api.get<TenantRow[]>('/api/console/platform/tenants', s), []);
  const entries = useAsync(
    (s) => {
      const q = new URLSearchParams({ limit: '500' });
      if (applied.tenant) q.set('tenant', applied.tenant);
      if (applied.action) q.set('action', applied.action);
      if (applied.since) q.set('since', applied.since);
      return api.get<AuditEntry[]>(`/api/console/platform/audit?${q.toString()}`, s);
    },
    [applied],
  );
  const slugOf = (id: number | null) =>
    id === null ? 'platform' : (tenants.data?.find((t) => t.id === id)?.slug ?? String(id));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setApplied({ tenant, action: action.trim(), since: since.trim() });
  };
  return (
    <>
      <PageHeader
        title="Platform audit log"
        subtitle="Changes, sign-ins and rejected credentials across the platform."
      />
      <Card
        actions={
          <form className="toolbar" onSubmit={submit}>
            <select aria-label="Tenant" value={tenant} onChange={(e) => setTenant(e.target.value)}>
              <option value="">All tenants</option>
              {(tenants.data ?? []).map((t) => (
                <option key={t.id} value={t.slug}>
                  {t.slug}
                </option>
              ))}
            </select>
            <input
              aria-label="Action"
              placeholder="action, e.g. user.login*"
              value={action}
              onChange={(e) => setAction(e.target.value)}
            />
            <input
              aria-label="Since"
              placeholder="24h"
              value={since}
              onChange={(e) => setSince(e.target.value)}
              size={6}
            />
            <button type="submit" className="btn btn-default">
              Filter
            </button>
          </form>
        }
      >
        {entries.error ? (
          <ErrorBox error={entries.error} />
        ) : entries.data ? (
          <AuditTable entries={entries.data} showTenant={slugOf} />
        ) : (
          <Spinner />
        )}
      </Card>
    </>
  );
}
