import { useState } from 'react';
import { api } from '../../api.ts';
import { AuditTable } from '../../components/AuditTable.tsx';
import { Card, ErrorBox, PageHeader, Spinner } from '../../components/ui.tsx';
import { useAsync } from '../../hooks.ts';
import type { AuditEntry } from '../../types.ts';

export function OrgAuditPage() {
  const [action, setAction] = useState('');
  const [applied, setApplied] = useState('');
  const entries = useAsync(
    (s) =>
      api.get<AuditEntry[]>(
        `/api/console/audit?limit=300${applied ? `&action=${encodeURIComponent(applied)}` : ''}`,
        s,
      ),
    [applied],
  );
  return (
    <>
      <PageHeader title="Audit log" subtitle="Every change in this organisation, newest first." />
      <Card
        actions={
          <form
            className="toolbar"
            onSubmit={(e) => {
              e.preventDefault();
              setApplied(action.trim());
            }}
          >
            <label className="inline-label">
              <span className="small muted">Action</span>
              <input
                value={action}
                onChange={(e) => setAction(e.target.value)}
                placeholder="e.g. token.* or endpoint.create"
                aria-label="Filter by action"
              />
            </label>
            <button type="submit" className="btn btn-default">
              Filter
            </button>
          </form>
        }
      >
        {entries.error ? (
          <ErrorBox error={entries.error} />
        ) : entries.data ? (
          <AuditTable entries={entries.data} />
        ) : (
          <Spinner />
        )}
      </Card>
    </>
  );
}
