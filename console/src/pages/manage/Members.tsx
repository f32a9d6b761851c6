import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import {
  Badge,
  Button,
  Card,
  CopyField,
  Empty,
  ErrorBox,
  Field,
  Modal,
  Notice,
  PageHeader,
  Spinner,
} from '../../components/ui.tsx';
import { date } from '../../format.ts';
import { useAsync } from '../../hooks.ts';
import { useSession } from '../../session.tsx';
import type { Member, Role } from '../../types.ts';

const ROLES: { id: Role; label: string; help: string }[] = [
  { id: 'viewer', label: 'Viewer', help: 'sees dashboards, endpoints, logs' },
  { id: 'editor', label: 'Editor', help: 'also manages endpoint checks' },
  { id: 'admin', label: 'Admin', help: 'also servers, tokens, API keys and users' },
];

export function MembersPage() {
  const { me } = useSession();
  const members = useAsync((s) => api.get<Member[]>('/api/console/members', s), []);
  const [open, setOpen] = useState(false);
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [added, setAdded] = useState<{ email: string; generatedPassword?: string }>();

  const close = () => {
    setOpen(false);
    setAdded(undefined);
    setEmail('');
    setRole('viewer');
    setError('');
  };
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      setAdded(await api.post('/api/console/members', { email, role }));
      members.reload();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const change = async (m: Member, next: Role) => {
    setError('');
    try {
      await api.patch(`/api/console/members/${m.userId}`, { role: next });
    } catch (err) {
      setError((err as Error).message);
    }
    members.reload();
  };
  const remove = async (m: Member) => {
    if (!confirm(`Remove ${m.email} from ${me.currentOrg?.displayName}?`)) return;
    setError('');
    try {
      await api.del(`/api/console/members/${m.userId}`);
      members.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };

  return (
    <>
      <PageHeader
        title="Users & roles"
        subtitle={`Who can sign in to ${me.currentOrg?.displayName} and what they may do`}
        actions={
          <Button variant="primary" onClick={() => setOpen(true)}>
            + Add user
          </Button>
        }
      />
      {error && !open ? <ErrorBox error={error} /> : null}
      <Card>
        {members.error ? (
          <ErrorBox error={members.error} />
        ) : !members.data ? (
          <Spinner />
        ) : members.data.length === 0 ? (
          <Empty>No members.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Role</th>
                  <th scope="col">Two-factor</th>
                  <th scope="col">Member since</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {members.data.map((m) => (
                  <tr key={m.userId}>
                    <td>
                      <div className="strong">{m.displayName || m.email}</div>
                      {m.displayName ? <div className="muted small">{m.email}</div> : null}
                    </td>
                    <td>
                      <select
                        aria-label={`Role of ${m.email}`}
                        value={m.role}
                        onChange={(e) => change(m, e.target.value as Role)}
                      >
                        {ROLES.map((r) => (
                          <option key={r.id} value={r.id}>
                            {r.label}
                          </option>
                        ))}
                      </select>
                    </td>
                    <td>{m.mfaEnabled ? <Badge tone="ok">on</Badge> : <Badge tone="muted">off</Badge>}</td>
                    <td className="nowrap">{date(m.since)}</td>
                    <td className="actions">
                      <Button size="sm" variant="danger" onClick={() => remove(m)}>
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
      <Card title="Roles">
        <ul className="plain-list small">
          {ROLES.map((r) => (
            <li key={r.id}>
              <strong>{r.label}</strong>: {r.help}
            </li>
          ))}
        </ul>
      </Card>
      <Modal title={added ? 'User added' : 'Add a user'} open={open} onClose={close} done={Boolean(added)}>
        {added ? (
          added.generatedPassword ? (
            <>
              <Notice tone="warn">
                <strong>{added.email}</strong> is a new account. Give them this initial password over a safe
                channel; it is shown only once.
              </Notice>
              <CopyField label="Initial password" value={added.generatedPassword} />
            </>
          ) : (
            <Notice tone="ok">
              {added.email} already had an account and can now sign in to this organisation.
            </Notice>
          )
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
            <Field label="Role">
              {(id) => (
                <select id={id} value={role} onChange={(e) => setRole(e.target.value as Role)}>
                  {ROLES.map((r) => (
                    <option key={r.id} value={r.id}>
                      {r.label} — {r.help}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            {error ? <ErrorBox error={error} /> : null}
            <div className="form-actions">
              <Button onClick={close}>Cancel</Button>
              <Button type="submit" variant="primary" busy={busy}>
                Add user
              </Button>
            </div>
          </form>
        )}
      </Modal>
    </>
  );
}
