import { useState } from 'react';
import { MfaEnrol, RecoveryCodes } from '../components/MfaEnrol.tsx';
import { Badge, Button, Card, Notice, PageHeader } from '../components/ui.tsx';
import { dateTime } from '../format.ts';
import { useSession } from '../session.tsx';

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
