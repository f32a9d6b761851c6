import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { MfaEnrol, RecoveryCodes } from '../components/MfaEnrol.tsx';
import { Badge, Button, Card, ErrorBox, Field, Notice, PageHeader } from '../components/ui.tsx';
import type { Me } from '../types.ts';
import { dateTime } from '../format.ts';
import { useSession } from '../session.tsx';

function ChangePassword() {
  const { setMe } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const [done, setDone] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError('');
    setDone(false);
    if (next !== repeat) {
      setError('the new passwords differ');
      return;
    }
    setBusy(true);
    try {
      // Changing the password ends every session; the answer is this browser's new one.
      setMe(
        await api.post<Me>('/api/console/account/password', { currentPassword: current, newPassword: next }),
      );
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(true);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="narrow-form">
      <Field label="Current password">
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="current-password"
            required
            value={current}
            onChange={(e) => setCurrent(e.target.value)}
          />
        )}
      </Field>
      <Field label="New password" hint="At least 12 characters. Other sessions are signed out.">
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={next}
            onChange={(e) => setNext(e.target.value)}
          />
        )}
      </Field>
      <Field label="New password again">
        {(id) => (
          <input
            id={id}
            type="password"
            autoComplete="new-password"
            required
            minLength={12}
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        )}
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      {done ? <Notice tone="ok">Password changed. Other sessions were signed out.</Notice> : null}
      <Button type="submit" variant="primary" busy={busy}>
        Change password
      </Button>
    </form>
  );
}

export function AccountPage() {
  const { me, setMe } = useSession();
  const [enrolling, setEnrolling] = useState(false);
  const [codes, setCodes] = useState<string[]>();
  return (
    <>
      <PageHeader title="Account" subtitle={me.user.email} />
      <Card title="Profile">
        <dl className="kv">
          <dt>Email</dt>
          <dd>{me.user.email}</dd>
          <dt>Name</dt>
          <dd>{me.user.displayName || '–'}</dd>
          <dt>Platform administrator</dt>
          <dd>{me.user.platformAdmin ? 'yes' : 'no'}</dd>
          <dt>Organisations</dt>
          <dd>{me.orgs.map((o) => `${o.displayName} (${o.role})`).join(', ') || 'none'}</dd>
          <dt>Session expires</dt>
          <dd>{dateTime(me.expiresAt)}</dd>
        </dl>
      </Card>
      <Card title="Password">
        <ChangePassword />
      </Card>
      <Card
        title="Two-factor authentication"
        actions={me.user.mfaEnabled || codes ? <Badge tone="ok">on</Badge> : <Badge tone="warn">off</Badge>}
      >
        {codes ? (
          <RecoveryCodes
            codes={codes}
            onContinue={() => {
              setCodes(undefined);
              setMe({ ...me, user: { ...me.user, mfaEnabled: true } });
            }}
          />
        ) : me.user.mfaEnabled ? (
          <p>
            Sign-in asks for a code from your authenticator app. If you lose the device, use a recovery code,
            or ask a platform administrator to reset it.
          </p>
        ) : enrolling ? (
          <MfaEnrol
            onDone={(c) => {
              setEnrolling(false);
              setCodes(c);
            }}
          />
        ) : (
          <>
            <Notice tone="warn">
              Your account is protected by a password only. Add an authenticator app for a second factor.
            </Notice>
            <Button variant="primary" onClick={() => setEnrolling(true)}>
              Set up two-factor authentication
            </Button>
          </>
        )}
      </Card>
    </>
  );
}
