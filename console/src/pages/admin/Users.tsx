import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import {
  Badge,
  Button,
  Card,
  CopyField,
  ErrorBox,
  Field,
  Modal,
  Notice,
  PageHeader,
  Spinner,
} from '../../components/ui.tsx';
import { date } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import type { TenantRow } from '../../types.ts';

interface UserRow {
  id: number;
  email: string;
  displayName: string;
  platformAdmin: boolean;
  mfaEnabled: boolean;
  createdAt: string;
  memberships: { tenantId: number; tenantSlug: string; role: string }[];
}

export function AdminUsers() {
  const users = useAsync((s) => api.get<UserRow[]>('/api/console/platform/users', s), []);
  const tenants = useAsync((s) => api.get<TenantRow[]>('/api/console/platform/tenants', s), []);
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [platformAdmin, setPlatformAdmin] = useState(false);
  const [orgId, setOrgId] = useState('');
  const [role, setRole] = useState('viewer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [created, setCreated] = useState<{ email: string; password: string }>();

  const close = () => {
    setOpen(false);
    setCreated(undefined);
    setEmail('');
    setDisplayName('');
    setPlatformAdmin(false);
    setOrgId('');
    setError('');
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const r = await api.post<{ user: UserRow; generatedPassword: string }>('/api/console/platform/users', {
        email,
        displayName: displayName || undefined,
        platformAdmin,
        ...(orgId ? { orgId: Number(orgId), role } : {}),
      });
      setCreated({ email: r.user.email, password: r.generatedPassword });
      users.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const resetMfa = async (u: UserRow) => {
    if (
      !confirm(`Reset two-factor authentication of ${u.email}? Their sessions end and they must enrol again.`)
    )
      return;
    try {
      await api.post(`/api/console/platform/users/${u.id}/reset-mfa`, {});
      users.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <PageHeader
        title="Users"
        subtitle="Everyone who can sign in to this platform."
        actions={
          <Button variant="primary" onClick={() => setOpen(true)}>
            + New user
          </Button>
        }
      />
      {error && !open ? <ErrorBox error={error} /> : null}
      <Card>
        {users.error ? (
          <ErrorBox error={users.error} />
        ) : !users.data ? (
          <Spinner />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Organisations</th>
                  <th scope="col">Two-factor</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {users.data.map((u) => (
                  <tr key={u.id}>
                    <td>
                      <div className="strong">
                        {u.displayName || u.email}{' '}
                        {u.platformAdmin ? <Badge tone="info">platform admin</Badge> : null}
                      </div>
                      {u.displayName ? <div className="muted small">{u.email}</div> : null}
                    </td>
                    <td className="small">
                      {u.memberships.map((m) => `${m.tenantSlug} (${m.role})`).join(', ') || (
                        <span className="muted">none</span>
                      )}
                    </td>
                    <td>
                      {u.mfaEnabled ? (
                        <Badge tone="ok">on</Badge>
                      ) : (
                        <Badge tone={u.platformAdmin ? 'bad' : 'muted'}>off</Badge>
                      )}
                    </td>
                    <td className="nowrap">{date(u.createdAt)}</td>
                    <td className="actions">
                      {u.mfaEnabled ? (
                        <Button size="sm" onClick={() => resetMfa(u)}>
                          Reset 2FA
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
        title={created ? 'User created' : 'New user'}
        open={open}
        onClose={close}
        done={Boolean(created)}
      >
        {created ? (
          <>
            <Notice tone="warn">
              Give <strong>{created.email}</strong> this initial password over a safe channel; it is shown
              only once.
            </Notice>
            <CopyField label="Initial password" value={created.password} />
          </>
        ) : (
          <form onSubmit={submit}>
            <Field label="Email">
              {(id) => (
                <input
                  id={id}
                  type="email"
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  required
                  autoFocus
                />
              )}
            </Field>
            <Field label="Name">
              {(id) => <input id={id} value={displayName} onChange={(e) => setDisplayName(e.target.value)} />}
            </Field>
            <Field label="Organisation">
              {(id) => (
                <select id={id} value={orgId} onChange={(e) => setOrgId(e.target.value)}>
                  <option value="">None</option>
                  {(tenants.data ?? [])
                    .filter((t) => t.status !== 'decommissioned')
                    .map((t) => (
                      <option key={t.id} value={t.id}>
                        {t.displayName}
                      </option>
                    ))}
                </select>
              )}
            </Field>
            {orgId ? (
              <Field label="Role">
                {(id) => (
                  <select id={id} value={role} onChange={(e) => setRole(e.target.value)}>
                    <option value="viewer">Viewer</option>
                    <option value="editor">Editor</option>
                    <option value="admin">Admin</option>
                  </select>
                )}
              </Field>
            ) : null}
            <label className="check">
              <input
                type="checkbox"
                checked={platformAdmin}
                onChange={(e) => setPlatformAdmin(e.target.checked)}
              />{' '}
              Platform administrator (must enrol two-factor authentication at first sign-in)
            </label>
            {error ? <ErrorBox error={error} /> : null}
            <div className="form-actions">
              <Button onClick={close}>Cancel</Button>
              <Button type="submit" variant="primary" busy={busy}>
                Create user
              </Button>
            </div>
          </form>
        )}
      </Modal>
    </>
  );
}
