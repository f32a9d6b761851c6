import { Card, Empty, PageHeader } from '../components/ui.tsx';
import { Link } from '../router.tsx';
import { useSession } from '../session.tsx';

export function NotFound({ what = 'page' }: { what?: string }) {
  return (
    <>
      <PageHeader title="Not found" />
      <Card>
        <Empty>
          This {what} does not exist in your current organisation. <Link to="/">Back to the overview</Link>
        </Empty>
      </Card>
    </>
  );
}

export function NoOrg() {
  const { me } = useSession();
  return (
    <>
      <PageHeader title="No organisation selected" />
      <Card>
        <Empty>
          You are not a member of any organisation.{' '}
          {me.user.platformAdmin ? (
            <Link to="/admin/tenants">Manage tenants</Link>
          ) : (
            'Ask an administrator to add you to one.'
          )}
        </Empty>
      </Card>
    </>
  );
}

export function NeedsRole({ role }: { role: string }) {
  const { me } = useSession();
  return (
    <>
      <PageHeader title="Not available" />
      <Card>
        <Empty>
          This page needs the {role} role in {me.currentOrg?.displayName}; you are{' '}
          {me.currentOrg?.role === 'admin' ? 'an' : 'a'} {me.currentOrg?.role}.{' '}
          <Link to="/">Back to the overview</Link>
        </Empty>
      </Card>
    </>
  );
}
