import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import type { Me } from '../types.ts';
import { Button, CopyButton, CopyField, ErrorBox, Field, Notice, Spinner } from './ui.tsx';

interface Enrolment {
  otpauthUri: string;
  secret: string;
  qrDataUrl: string;
}

/**
 * TOTP enrolment: shows the QR code (and the secret for manual entry), asks for a first code,
 * and hands back the recovery codes (plus the new session when enrolling before sign-in).
 */
export function MfaEnrol({ ticket, onDone }: { ticket?: string; onDone(codes: string[], me?: Me): void }) {
  const [enrolment, setEnrolment] = useState<Enrolment>();
  const [error, setError] = useState('');
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const started = useRef(false);

  useEffect(() => {
    // Once only: a second call would replace the secret the QR code shows.
    if (started.current) return;
    started.current = true;
    api
      .post<Enrolment>('/api/console/mfa/enrol', ticket ? { ticket } : {})
      .then(setEnrolment)
      .catch((e: Error) => setError(e.message));
  }, [ticket]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const res = await api.post<{ recoveryCodes: string[]; me?: Me }>('/api/console/mfa/confirm', {
        code,
        ...(ticket ? { ticket } : {}),
      });
      onDone(res.recoveryCodes, res.me);
    } catch (err) {
      setError((err as Error).message);
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  if (!enrolment) return error ? <ErrorBox error={error} /> : <Spinner label="Preparing enrolment" />;
  return (
    <form onSubmit={submit} className="enrol">
      <ol className="steps">
        <li>Open an authenticator app (1Password, Google Authenticator, Aegis…) and scan this code.</li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      <div className="qr-row">
        <img
          src={enrolment.qrDataUrl}
          width={180}
          height={180}
          alt="QR code to add Irin to an authenticator app"
          className="qr"
        />
      </div>
      <CopyField label="Or enter this key manually" value={enrolment.secret} />
      <Field label="Code from the app">
        {(id) => (
          <input
            id={id}
            name="code"
            inputMode="numeric"
            autoComplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            maxLength={7}
            required
            autoFocus
            value={code}
            onChange={(e) => setCode(e.target.value)}
            className="code-input"
          />
        )}
      </Field>
      {error ? <ErrorBox error={error} /> : null}
      <Button type="submit" variant="primary" busy={busy}>
        Turn on two-factor authentication
      </Button>
    </form>
  );
}

export function RecoveryCodes({ codes, onContinue }: { codes: string[]; onContinue(): void }) {
  return (
    <div className="recovery">
      <Notice tone="warn">
        <strong>Save these recovery codes now.</strong> Each works once, instead of a code from the app, if
        you lose your phone. They are not shown again.
      </Notice>
      <ul className="recovery-codes" aria-label="Recovery codes">
        {codes.map((c) => (
          <li key={c} className="mono">
            {c}
          </li>
        ))}
      </ul>
      <div className="form-actions recovery-actions">
        <CopyButton text={codes.join('\n')} label="Copy all codes" />
        <a
          className="btn btn-default"
          download="irin-recovery-codes.txt"
          href={`data:text/plain;charset=utf-8,${encodeURIComponent(codes.join('\n') + '\n')}`}
        >
          Download
        </a>
        <Button variant="primary" onClick={onContinue}>
          I have saved them — continue
        </Button>
      </div>
    </div>
  );
}
