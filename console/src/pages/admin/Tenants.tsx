import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
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
import { date } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { TenantRow } from '../../types.ts';

interface TenantDetails {
  tenant: TenantRow;
  effectiveLimits: Record<string, number>;
  limitNames: string[];
}

/** The configuration file's spelling of a limit (maxSeries → max_series, retentionMs → retention). */
function configName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/_ms$/, '');
}

/** Time limits (milliseconds) as the largest whole unit, e.g. 1296000000 → 15d. */
function limitValue(name: string, value: number | undefined): string {
  if (value === undefined) return '';
  if (!name.endsWith('Ms')) return String(value);
  for (const [unit, ms] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (value > 0 && value % ms === 0) return `${value / ms}${unit}`;
  }
  return String(value);
}

function LimitsEditor({ tenant, onClose }: { tenant: TenantRow; onClose(): void }) {
  const details = useAsync(
    (s) => api.get<TenantDetails>(`/api/console/platform/tenants/${tenant.id}`, s),
    [tenant.id],
  );
  const [edits, setEdits] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const set: Record<string, string> = {};
    const unset: string[] = [];
    for (const [k, v] of Object.entries(edits)) {
      // The server validates: whole numbers, or durations such as 30d for the time limits.
      if (v.trim() === '') unset.push(k);
      else set[k] = v.trim();
    }
    setBusy(true);
    setError('');
    try {
      await api.put(`/api/console/platform/tenants/${tenant.id}/limits`, { set, unset });
      onClose();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Limits of ${tenant.displayName}`} open onClose={onClose} wide>
      {details.error ? <ErrorBox error={details.error} /> : null}
      {!details.data ? (
        <Spinner />
      ) : (
        <form onSubmit={save}>
          <p className="small muted">
            Empty an override to fall back to the platform default. Sizes are bytes; time limits take a
            duration such as 30d or 90s.
          </p>
          <div className="table-wrap limits-table">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Limit</th>
                  <th scope="col" className="num">
                    Effective
                  </th>
                  <th scope="col">Override</th>
                </tr>
              </thead>
              <tbody>
                {details.data.limitNames.map((name) => {
                  const override = details.data!.tenant.limitOverrides[name];
                  return (
                    <tr key={name}>
                      <td className="mono small">{configName(name)}</td>
                      <td className="num mono small">
                        {limitValue(name, details.data!.effectiveLimits[name])}
                      </td>
                      <td>
                        <input
                          aria-label={`Override for ${configName(name)}`}
                          className="mono small"
                          value={edits[name] ?? (override !== undefined ? limitValue(name, override) : '')}
                          placeholder="default"
                          onChange={(e) => setEdits((x) => ({ ...x, [name]: e.target.value }))}
                        />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {error ? <ErrorBox error={error} /> : null}
          <div className="form-actions">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy} disabled={Object.keys(edits).length === 0}>
              Save limits
            </Button>
          </div>
        </form>
      )}
    </Modal>
  );
}

function Decommission({ tenant, onClose, onDone }: { tenant: TenantRow; onClose(): void; onDone(): void }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.post(`/api/console/platform/tenants/${tenant.id}/decommission`, { confirmSlug: typed });
      onDone();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={`Decommission ${tenant.displayName}`} open onClose={onClose}>
      <form onSubmit={submit}>
        <div className="alert alert-bad">
          This revokes every token and key of <strong>{tenant.slug}</strong>, ends its users' sessions and
          deletes all its stored metrics and logs. It cannot be undone, and the slug is never reused.
        </div>
        <Field label={`Type ${tenant.slug} to confirm`}>
          {(id) => (
            <input
              id={id}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoFocus
              autoComplete="off"
            />
          )}
        </Field>
        {error ? <ErrorBox error={error} /> : null}
        <div className="form-actions">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="danger" busy={busy} disabled={typed !== tenant.slug}>
            Decommission
          </Button>
        </div>
      </form>
    </Modal>
  );
}

export function AdminTenants() {
  const tenants = useAsync((s) => api.get<TenantRow[]>('/api/console/platform/tenants', s), []);
  const [creating, setCreating] = useState(false);
  const [slug, setSlug] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [limits, setLimits] = useState<TenantRow>();
  const [decom, setDecom] = useState<TenantRow>();

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await api.post('/api/console/platform/tenants', { slug, ...(displayName ? { displayName } : {}) });
      setCreating(false);
      setSlug('');
      setDisplayName('');
      tenants.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const setStatus = async (t: TenantRow, status: 'active' | 'suspended') => {
    if (
      status === 'suspended' &&
      !confirm(`Suspend ${t.slug}? Its pushes and reads are refused until it is resumed.`)
    )
      return;
    try {
      await api.post(`/api/console/platform/tenants/${t.id}/status`, { status });
      tenants.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <PageHeader
        title="Tenants"
        subtitle="Client organisations on this platform."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            + New tenant
          </Button>
        }
      />
      {error && !creating ? <ErrorBox error={error} /> : null}
      <Card>
        {tenants.error ? (
          <ErrorBox error={tenants.error} />
        ) : !tenants.data ? (
          <Spinner />
        ) : tenants.data.length === 0 ? (
          <Empty>No tenants yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Tenant</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="num">
                    Servers
                  </th>
                  <th scope="col" className="num">
                    Endpoints
                  </th>
                  <th scope="col" className="num">
                    Users
                  </th>
                  <th scope="col" className="num">
                    Tokens / keys
                  </th>
                  <th scope="col">Limits</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tenants.data.map((t) => (
                  <tr key={t.id} data-tenant={t.slug}>
                    <td>
                      <div className="strong">{t.displayName}</div>
                      <div className="mono small muted">{t.slug}</div>
                    </td>
                    <td>
                      <StateBadge state={t.status} />
                    </td>
                    <td className="num">{t.servers}</td>
                    <td className="num">{t.endpoints}</td>
                    <td className="num">{t.members}</td>
                    <td className="num">
                      {t.activePushTokens} / {t.activeReadKeys}
                    </td>
                    <td className="small">
                      {Object.keys(t.limitOverrides).length
                        ? `${Object.keys(t.limitOverrides).length} overrides`
                        : 'defaults'}
                    </td>
                    <td className="nowrap">{date(t.createdAt)}</td>
                    <td className="actions">
                      {t.status !== 'decommissioned' ? (
                        <>
                          <Button size="sm" onClick={() => setLimits(t)}>
                            Limits
                          </Button>
                          {t.status === 'active' ? (
                            <Button size="sm" onClick={() => setStatus(t, 'suspended')}>
                              Suspend
                            </Button>
                          ) : (
                            <Button size="sm" onClick={() => setStatus(t, 'active')}>
                              Resume
                            </Button>
                          )}
                          <Button size="sm" variant="danger" onClick={() => setDecom(t)}>
                            Decommission
                          </Button>
                        </>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>
      <Modal title="New tenant" open={creating} onClose={() => setCreating(false)}>
        <form onSubmit={create}>
          <Field
            label="Slug"
            hint="Lowercase letters, digits and dashes; the tenant label on all its data. Cannot be changed."
          >
            {(id) => (
              <input
                id={id}
                value={slug}
                onChange={(e) => setSlug(e.target.value)}
                required
                autoFocus
                pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?"
              />
            )}
          </Field>
          <Field label="Display name">
            {(id) => (
              <input
                id={id}
                value={displayName}
                onChange={(e) => setDisplayName(e.target.value)}
                placeholder="Acme Inc."
              />
            )}
          </Field>
          {error ? <ErrorBox error={error} /> : null}
          <div className="form-actions">
            <Button onClick={() => setCreating(false)}>Cancel</Button>
            <Button type="submit" variant="primary" busy={busy}>
              Create tenant
            </Button>
          </div>
        </form>
      </Modal>
      {limits ? (
        <LimitsEditor
          tenant={limits}
          onClose={() => {
            setLimits(undefined);
            tenants.reload();
          }}
        />
      ) : null}
      {decom ? (
        <Decommission
          tenant={decom}
          onClose={() => setDecom(undefined)}
          onDone={() => {
            setDecom(undefined);
            tenants.reload();
          }}
        />
      ) : null}
    </>
  );
}
