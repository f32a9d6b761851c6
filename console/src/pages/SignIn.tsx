import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { MfaEnrol, RecoveryCodes } from '../components/MfaEnrol.tsx';
import { Button, ErrorBox, Field } from '../components/ui.tsx';
import type { Me } from '../types.ts';

type Step =
  | { kind: 'password' }
  | { kind: 'mfa' }
  | { kind: 'enrol'; ticket: string }
  | { kind: 'recovery'; codes: string[]; me: Me };

type SignInAnswer =
  | { status: 'signed-in'; me: Me; usedRecoveryCode: boolean }
  | { status: 'mfa-required' }
  | { status: 'enrolment-required'; ticket: string };

/**
 * Sign-in: email and password; then a code from the authenticator app (or a recovery code) when
 * the account has two-factor authentication; or, for a platform admin without it, enrolment.
 * The password stays in this component's memory only until the second step is done.
 */
export function SignIn({ onSignedIn }: { onSignedIn(me: Me): void }) {
  const [step, setStep] = useState<Step>({ kind: 'password' });
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    document.title = 'Sign in · Irin';
  }, []);

  const send = async (extra: Record<string, string>) => {
    setBusy(true);
    setError('');
    try {
      const res = await api.post<SignInAnswer>('/api/console/sign-in', { email, password, ...extra });
      if (res.status === 'signed-in') {
        setPassword('');
        onSignedIn(res.me);
      } else if (res.status === 'mfa-required') {
        setStep({ kind: 'mfa' });
      } else {
        setPassword('');
        setStep({ kind: 'enrol', ticket: res.ticket });
      }
    } catch (err) {
      setError(
        err instanceof ApiError ? err.message : 'Irin cannot be reached; check the connection and retry',
      );
      setCode('');
    } finally {
      setBusy(false);
    }
  };

  const onPassword = (e: FormEvent) => {
    e.preventDefault();
    void send({});
  };
  const onCode = (e: FormEvent) => {
    e.preventDefault();
    void send(useRecovery ? { recoveryCode: code } : { code });
  };

  return (
    <div className="auth-page">
      <div className="auth-card">
        <div className="auth-brand">
          <svg viewBox="0 0 32 32" width="36" height="36" aria-hidden="true">
            <rect width="32" height="32" rx="7" className="brand-mark" />
            <path
              d="M7 21l5-7 4 4 4-8 5 11"
              fill="none"
              stroke="#fff"
              strokeWidth="2.6"
              strokeLinecap="round"
              strokeLinejoin="round"
            />
          </svg>
          <span>Irin</span>
        </div>
        {step.kind === 'password' ? (
          <form onSubmit={onPassword} aria-label="Sign in">
            <h1>Sign in</h1>
            <Field label="Email">
              {(id) => (
                <input
                  id={id}
                  name="email"
                  type="email"
                  autoComplete="username"
                  required
                  autoFocus
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
              )}
            </Field>
            <Field label="Password">
              {(id) => (
                <input
                  id={id}
                  name="password"
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              )}
            </Field>
            {error ? <ErrorBox error={error} /> : null}
            <Button type="submit" variant="primary" busy={busy} className="btn btn-primary btn-block">
              Continue
            </Button>
          </form>
        ) : null}

        {step.kind === 'mfa' ? (
          <form onSubmit={onCode} aria-label="Two-factor authentication">
            <h1>Two-factor authentication</h1>
            <p className="muted">
              {useRecovery
                ? 'Enter one of your recovery codes.'
                : `Enter the 6-digit code from your authenticator app for ${email}.`}
            </p>
            <Field label={useRecovery ? 'Recovery code' : 'Authentication code'}>
              {(id) => (
                <input
                  id={id}
                  name="code"
                  key={useRecovery ? 'recovery' : 'totp'}
                  inputMode={useRecovery ? 'text' : 'numeric'}
                  autoComplete="one-time-code"
                  required
                  autoFocus
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  className="code-input"
                  placeholder={useRecovery ? 'xxxx-xxxx-xxxx' : '123456'}
                />
              )}
            </Field>
            {error ? <ErrorBox error={error} /> : null}
            <Button type="submit" variant="primary" busy={busy}>
              Verify
            </Button>
            <div className="auth-links">
              <button
                type="button"
                className="link-btn"
                onClick={() => {
                  setUseRecovery(!useRecovery);
                  setCode('');
                  setError('');
                }}
              >
                {useRecovery ? 'Use the authenticator app instead' : 'Use a recovery code'}
              </button>
              <button
                type="button"
                className="link-btn"
                onClick={() => {
                  setStep({ kind: 'password' });
                  setPassword('');
                  setCode('');
                  setError('');
                }}
              >
                Start over
              </button>
            </div>
          </form>
        ) : null}

        {step.kind === 'enrol' ? (
          <div>
            <h1>Set up two-factor authentication</h1>
            <p className="muted">Platform administrators must use an authenticator app to sign in.</p>
            <MfaEnrol
              ticket={step.ticket}
              onDone={(codes, me) => me && setStep({ kind: 'recovery', codes, me })}
            />
          </div>
        ) : null}

        {step.kind === 'recovery' ? (
          <div>
            <h1>Two-factor authentication is on</h1>
            <RecoveryCodes codes={step.codes} onContinue={() => onSignedIn(step.me)} />
          </div>
        ) : null}
      </div>
    </div>
  );
}
