import { Icon, type IconName } from './Icon.tsx';
import { useState, type ReactNode } from 'react';
import { Link, usePath } from '../router.tsx';
import { can, useSession } from '../session.tsx';
import { useTheme } from '../theme.tsx';

interface NavItem {
  to: string;
  label: string;
  icon: IconName;
}

function NavGroup({ title, items }: { title: string; items: NavItem[] }) {
  const path = usePath();
  if (items.length === 0) return null;
  return (
    <div className="nav-group">
      <div className="nav-title">{title}</div>
      <ul>
        {items.map((i) => {
          const active =
            i.to === '/'
              ? path === '/' || path.startsWith('/servers/')
              : path === i.to || path.startsWith(i.to + '/');
          return (
            <li key={i.to}>
              <Link
                to={i.to}
                className={active ? 'nav-link active' : 'nav-link'}
                aria-current={active ? 'page' : undefined}
              >
                <span className="nav-icon">
                  <Icon name={i.icon} />
                </span>
                {i.label}
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function OrgSwitcher() {
  const { me, switchOrg } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  if (me.orgs.length === 0) return <div className="org-switcher muted small">No organisation</div>;
  if (me.orgs.length === 1) {
    return (
      <div className="org-switcher">
        <div className="org-label">Organisation</div>
        <div className="org-name">{me.orgs[0]!.displayName}</div>
      </div>
    );
  }
  return (
    <div className="org-switcher">
      <label className="org-label" htmlFor="org-switch">
        Organisation
      </label>
      <select
        id="org-switch"
        value={me.currentOrg?.id ?? ''}
        disabled={busy}
        onChange={async (e) => {
          setBusy(true);
          setError('');
          try {
            await switchOrg(Number(e.target.value));
          } catch (err) {
            setError((err as Error).message);
          } finally {
            setBusy(false);
          }
        }}
      >
        {me.currentOrg ? null : <option value="">Choose…</option>}
        {me.orgs.map((o) => (
          <option key={o.id} value={o.id}>
            {o.displayName}
          </option>
        ))}
      </select>
      {error ? <div className="error-text small">{error}</div> : null}
    </div>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const { me, signOut } = useSession();
  const { theme, toggle } = useTheme();
  const org = me.currentOrg;
  const monitor: NavItem[] = org
    ? [
        { to: '/', label: 'System health', icon: 'health' },
        { to: '/endpoints', label: 'Websites & endpoints', icon: 'globe' },
        { to: '/logs', label: 'Logs', icon: 'logs' },
        { to: '/explore', label: 'Explore', icon: 'explore' },
      ]
    : [];
  const manage: NavItem[] = [
    ...(can(org, 'admin') ? [{ to: '/manage/servers', label: 'Servers', icon: 'server' as const }] : []),
    ...(can(org, 'editor')
      ? [{ to: '/manage/endpoints', label: 'Endpoint checks', icon: 'check' as const }]
      : []),
    ...(can(org, 'admin')
      ? [
          { to: '/manage/api-keys', label: 'API keys', icon: 'key' as const },
          { to: '/manage/members', label: 'Users & roles', icon: 'users' as const },
          { to: '/manage/audit', label: 'Audit log', icon: 'audit' as const },
        ]
      : []),
  ];
  const platform: NavItem[] = me.user.platformAdmin
    ? [
        { to: '/admin/tenants', label: 'Tenants', icon: 'tenants' },
        { to: '/admin/credentials', label: 'Tokens & keys', icon: 'key' },
        { to: '/admin/users', label: 'Users', icon: 'user' },
        { to: '/admin/audit', label: 'Platform audit', icon: 'audit' },
      ]
    : [];
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <div className="sidebar-inner">
          <div className="brand">
            <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
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
          <OrgSwitcher />
          <NavGroup title="Monitor" items={monitor} />
          <NavGroup title="Manage" items={manage} />
          <NavGroup title="Platform" items={platform} />
          <div className="sidebar-footer">
            <Link to="/account" className="user-chip" aria-label={`Account settings for ${me.user.email}`}>
              <span className="avatar" aria-hidden="true">
                {(me.user.displayName || me.user.email).slice(0, 1).toUpperCase()}
              </span>
              <span className="user-text">
                <span className="user-name">{me.user.displayName || me.user.email.split('@')[0]}</span>
                <span className="user-email">{me.user.email}</span>
              </span>
            </Link>
            <div className="footer-actions">
              <button
                type="button"
                className="btn btn-ghost btn-sm"
                onClick={toggle}
                aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}
              >
                {theme === 'dark' ? '☀ Light' : '☾ Dark'}
              </button>
              <button type="button" className="btn btn-ghost btn-sm" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          </div>
        </div>
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        {org && org.status !== 'active' ? (
          <div className="alert alert-warn org-banner" role="status">
            <strong>
              {org.displayName} is {org.status}.
            </strong>{' '}
            Its data cannot be read or pushed until the provider resumes it.
          </div>
        ) : null}
        {children}
      </main>
    </div>
  );
}
