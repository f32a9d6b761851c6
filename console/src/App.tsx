import { lazy, Suspense, useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api, setCsrfToken, setUnauthorizedHandler, takeBootSession } from './api.ts';
import { Layout } from './components/Layout.tsx';
import { TimeRangeProvider } from './components/TimeRange.tsx';
import { Spinner } from './components/ui.tsx';
import { AccountPage } from './pages/Account.tsx';
import { AdminAudit } from './pages/admin/Audit.tsx';
import { AdminCredentials } from './pages/admin/Credentials.tsx';
import { AdminTenants } from './pages/admin/Tenants.tsx';
import { AdminUsers } from './pages/admin/Users.tsx';
import { EndpointDetail } from './pages/EndpointDetail.tsx';
import { EndpointsPage } from './pages/Endpoints.tsx';
import { LogsPage } from './pages/Logs.tsx';
import { ApiKeysPage } from './pages/manage/ApiKeys.tsx';
import { OrgAuditPage } from './pages/manage/Audit.tsx';
import { ManageEndpoints } from './pages/manage/Endpoints.tsx';
import { MembersPage } from './pages/manage/Members.tsx';
import { ManageServers } from './pages/manage/Servers.tsx';
import { NeedsRole, NoOrg, NotFound } from './pages/NotFound.tsx';
import { Overview } from './pages/Overview.tsx';
import { ServerDetail } from './pages/ServerDetail.tsx';
import { SignIn } from './pages/SignIn.tsx';
import { match, navigate, RouterProvider, usePath } from './router.tsx';
import { can, SessionContext, type SessionValue } from './session.tsx';
import { ThemeProvider } from './theme.tsx';
import type { Me, Role } from './types.ts';

// CodeMirror is large: Explore loads it on first visit, keeping the first dashboard light.
const ExplorePage = lazy(() => import('./pages/Explore.tsx'));

type Route = {
  pattern: string;
  org: boolean;
  role?: Role;
  platform?: boolean;
  render(params: Record<string, string>): ReactNode;
};

const ROUTES: Route[] = [
  { pattern: '/', org: true, render: () => <Overview /> },
  { pattern: '/servers/:instance', org: true, render: (p) => <ServerDetail instance={p.instance!} /> },
  { pattern: '/endpoints', org: true, render: () => <EndpointsPage /> },
  { pattern: '/endpoints/:id', org: true, render: (p) => <EndpointDetail id={p.id!} /> },
  { pattern: '/logs', org: true, render: () => <LogsPage /> },
  { pattern: '/explore', org: true, render: () => <ExplorePage /> },
  { pattern: '/manage/servers', org: true, role: 'admin', render: () => <ManageServers /> },
  { pattern: '/manage/endpoints', org: true, role: 'editor', render: () => <ManageEndpoints /> },
  { pattern: '/manage/api-keys', org: true, role: 'admin', render: () => <ApiKeysPage /> },
  { pattern: '/manage/members', org: true, role: 'admin', render: () => <MembersPage /> },
  { pattern: '/manage/audit', org: true, role: 'admin', render: () => <OrgAuditPage /> },
  { pattern: '/account', org: false, render: () => <AccountPage /> },
  { pattern: '/admin/tenants', org: false, platform: true, render: () => <AdminTenants /> },
  { pattern: '/admin/credentials', org: false, platform: true, render: () => <AdminCredentials /> },
  { pattern: '/admin/users', org: false, platform: true, render: () => <AdminUsers /> },
  { pattern: '/admin/audit', org: false, platform: true, render: () => <AdminAudit /> },
];

function Routes({ me }: { me: Me }) {
  const path = usePath();
  for (const r of ROUTES) {
    const params = match(r.pattern, path);
    if (!params) continue;
    // Pages the user may not use look like pages that do not exist, as the API answers.
    if (r.platform && !me.user.platformAdmin) return <NotFound />;
    if (r.org && !me.currentOrg) return <NoOrg />;
    if (r.role && !can(me.currentOrg, r.role)) return <NeedsRole role={r.role} />;
    return <Suspense fallback={<Spinner />}>{r.render(params)}</Suspense>;
  }
  return <NotFound />;
}

function SignedIn({ me, setMe, onSignedOut }: { me: Me; setMe(me: Me): void; onSignedOut(): void }) {
  const switchOrg = useCallback(
    async (orgId: number) => {
      const next = await api.post<Me>('/api/console/org', { orgId });
      setCsrfToken(next.csrfToken);
      setMe(next);
    },
    [setMe],
  );
  const signOut = useCallback(async () => {
    await api.post('/api/console/sign-out', {}).catch(() => undefined);
    setCsrfToken('');
    onSignedOut();
    navigate('/', { replace: true });
  }, [onSignedOut]);
  const value: SessionValue = useMemo(
    () => ({ me, setMe, switchOrg, signOut }),
    [me, setMe, switchOrg, signOut],
  );
  return (
    <SessionContext.Provider value={value}>
      <TimeRangeProvider>
        <Layout>
          {/* Keyed by org: switching org remounts the page, so nothing of the previous org lingers. */}
          <div key={me.currentOrg?.id ?? 0} className="page">
            <Routes me={me} />
          </div>
        </Layout>
      </TimeRangeProvider>
    </SessionContext.Provider>
  );
}

export function App() {
  const [me, setMeState] = useState<Me | null | undefined>(undefined);
  const setMe = useCallback((m: Me | null) => {
    if (m) setCsrfToken(m.csrfToken);
    setMeState(m);
  }, []);
  useEffect(() => {
    setUnauthorizedHandler(() => setMeState(null));
    takeBootSession<Me>()
      .then((m) => setMe(m))
      .catch(() => setMe(null));
  }, [setMe]);

  return (
    <ThemeProvider>
      <RouterProvider>
        {me === undefined ? (
          <div className="splash">
            <Spinner label="Loading Irin" />
          </div>
        ) : me === null ? (
          <SignIn onSignedIn={setMe} />
        ) : (
          <SignedIn me={me} setMe={setMe} onSignedOut={() => setMe(null)} />
        )}
      </RouterProvider>
    </ThemeProvider>
  );
}
