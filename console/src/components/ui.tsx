import { useEffect, useId, useRef, useState, type ButtonHTMLAttributes, type ReactNode } from 'react';

export function Button({
  variant = 'default',
  size,
  busy,
  children,
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: 'default' | 'primary' | 'danger' | 'ghost';
  size?: 'sm';
  busy?: boolean;
}) {
  return (
    <button
      type="button"
      className={`btn btn-${variant}${size === 'sm' ? ' btn-sm' : ''}`}
      disabled={busy || rest.disabled}
      aria-busy={busy || undefined}
      {...rest}
    >
      {busy ? <span className="spinner spinner-inline" aria-hidden="true" /> : null}
      {children}
    </button>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
  id,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  id?: string;
}) {
  const headingId = useId();
  return (
    <section className={`card ${className ?? ''}`} aria-labelledby={title ? headingId : undefined} id={id}>
      {title || actions ? (
        <header className="card-header">
          {title ? <h2 id={headingId}>{title}</h2> : <span />}
          {actions ? <div className="card-actions">{actions}</div> : null}
        </header>
      ) : null}
      <div className="card-body">{children}</div>
    </section>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'muted' | 'info';

export function Badge({ tone, children, title }: { tone: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge-${tone}`} title={title}>
      {children}
    </span>
  );
}

const STATE_TONE: Record<string, Tone> = {
  up: 'ok',
  ok: 'ok',
  active: 'ok',
  stale: 'warn',
  degraded: 'warn',
  suspended: 'warn',
  paused: 'muted',
  down: 'bad',
  revoked: 'bad',
  expired: 'muted',
  decommissioned: 'muted',
  'never-seen': 'muted',
  no_data: 'muted',
};

const STATE_LABEL: Record<string, string> = { 'never-seen': 'never seen', no_data: 'no data' };

export function StateBadge({ state }: { state: string }) {
  return (
    <Badge tone={STATE_TONE[state] ?? 'info'}>
      <span className={`dot dot-${STATE_TONE[state] ?? 'info'}`} aria-hidden="true" />
      {STATE_LABEL[state] ?? state}
    </Badge>
  );
}

export function Spinner({ label = 'Loading' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      <span>{label}…</span>
    </div>
  );
}

export function ErrorBox({ error, title }: { error: Error | string; title?: string }) {
  return (
    <div className="alert alert-bad" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {typeof error === 'string' ? error : error.message}
    </div>
  );
}

export function Notice({ tone = 'info', children }: { tone?: Tone; children: ReactNode }) {
  return <div className={`alert alert-${tone}`}>{children}</div>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

/** A modal dialog on the native <dialog> element: focus is trapped and Escape closes it. */
export function Modal({
  title,
  open,
  onClose,
  children,
  footer,
  done,
  wide,
}: {
  title: string;
  open: boolean;
  onClose(): void;
  children: ReactNode;
  footer?: ReactNode;
  /** The task is finished (e.g. a secret was shown once): the footer is a single "Done" button. */
  done?: boolean;
  wide?: boolean;
}) {
  if (done) {
    footer = (
      <Button variant="primary" onClick={onClose}>
        Done
      </Button>
    );
  }
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={`modal${wide ? ' modal-wide' : ''}`}
      aria-labelledby={titleId}
      onClose={onClose}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open ? (
        <>
          <header className="modal-header">
            <h2 id={titleId}>{title}</h2>
            <button type="button" className="icon-btn" aria-label="Close" onClick={onClose}>
              ×
            </button>
          </header>
          <div className="modal-body">{children}</div>
          {footer ? <footer className="modal-footer">{footer}</footer> : null}
        </>
      ) : null}
    </dialog>
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** A button that copies a text (falls back to telling the user to copy by hand). */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'' | 'yes' | 'no'>('');
  return (
    <Button
      onClick={async () => {
        const ok = await copyText(text);
        setState(ok ? 'yes' : 'no');
        setTimeout(() => setState(''), 2000);
      }}
    >
      {state === 'yes' ? 'Copied' : state === 'no' ? 'Copy failed: select and copy' : label}
    </Button>
  );
}

/** A read-only value with a copy button (secrets are shown once: the copy must be easy). */
export function CopyField({
  label,
  value,
  multiline,
  mono = true,
}: {
  label: string;
  value: string;
  multiline?: boolean;
  mono?: boolean;
}) {
  const id = useId();
  const [copied, setCopied] = useState<'yes' | 'no' | ''>('');
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const copy = async () => {
    const ok = await copyText(value);
    if (!ok) ref.current?.select();
    setCopied(ok ? 'yes' : 'no');
    setTimeout(() => setCopied(''), 2000);
  };
  return (
    <div className="field copy-field">
      <label htmlFor={id}>{label}</label>
      <div className="copy-row">
        {multiline ? (
          <textarea
            id={id}
            ref={ref}
            readOnly
            value={value}
            rows={Math.min(18, value.split('\n').length + 1)}
            className={mono ? 'mono' : ''}
          />
        ) : (
          <input
            id={id}
            ref={ref}
            readOnly
            value={value}
            className={mono ? 'mono' : ''}
            onFocus={(e) => e.currentTarget.select()}
          />
        )}
        <Button size="sm" onClick={copy} aria-label={`Copy ${label}`}>
          {copied === 'yes' ? 'Copied' : copied === 'no' ? 'Press Ctrl+C' : 'Copy'}
        </Button>
      </div>
    </div>
  );
}

export function Field({
  label,
  hint,
  children,
  id,
}: {
  label: string;
  hint?: ReactNode;
  children: (id: string) => ReactNode;
  id?: string;
}) {
  const auto = useId();
  const fieldId = id ?? auto;
  return (
    <div className="field">
      <label htmlFor={fieldId}>{label}</label>
      {children(fieldId)}
      {hint ? <div className="hint">{hint}</div> : null}
    </div>
  );
}

export function Tabs<T extends string>({
  tabs,
  value,
  onChange,
  label,
}: {
  tabs: { id: NoInfer<T>; label: string }[];
  value: T;
  onChange(v: NoInfer<T>): void;
  label: string;
}) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map((t) => (
        <button
          key={t.id}
          type="button"
          role="tab"
          aria-selected={value === t.id}
          className={value === t.id ? 'tab tab-active' : 'tab'}
          onClick={() => onChange(t.id)}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function PageHeader({
  title,
  subtitle,
  actions,
}: {
  title: string;
  subtitle?: ReactNode;
  actions?: ReactNode;
}) {
  useEffect(() => {
    document.title = `${title} · Irin`;
  }, [title]);
  return (
    <div className="page-header">
      <div>
        <h1>{title}</h1>
        {subtitle ? <p className="subtitle">{subtitle}</p> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

/** Shows a once-only secret with a clear warning. */
export function SecretNotice() {
  return (
    <Notice tone="warn">
      <strong>Copy these values now.</strong> The secret is shown only once; Irin keeps only a hash of it. If
      it is lost, issue a new one and revoke this one.
    </Notice>
  );
}
