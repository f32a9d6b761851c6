import { useState, type FormEvent } from 'react';
import { api } from '../../api.ts';
import {
  Button,
  Card,
  Empty,
  ErrorBox,
  Field,
  Modal,
  PageHeader,
  Spinner,
  StateBadge,
} from '../../components/ui.tsx';
import { useAsync } from '../../hooks.ts';
import { Link } from '../../router.tsx';
import type { EndpointConfig } from '../../types.ts';

interface HeaderDraft {
  name: string;
  value: string;
  secret: boolean;
  /** A stored secret header: its value is not readable; empty keeps it. */
  stored: boolean;
}

interface Draft {
  name: string;
  url: string;
  method: string;
  intervalSeconds: string;
  timeoutSeconds: string;
  expectedStatus: string;
  bodyKind: '' | 'keyword' | 'regex';
  bodyPattern: string;
  bodyNegate: boolean;
  tlsVerify: boolean;
  followRedirects: boolean;
  enabled: boolean;
  headers: HeaderDraft[];
}

const EMPTY: Draft = {
  name: '',
  url: 'https://',
  method: 'GET',
  intervalSeconds: '60',
  timeoutSeconds: '10',
  expectedStatus: '',
  bodyKind: '',
  bodyPattern: '',
  bodyNegate: false,
  tlsVerify: true,
  followRedirects: true,
  enabled: true,
  headers: [],
};

function toDraft(e: EndpointConfig): Draft {
  return {
    name: e.name,
    url: e.url,
    method: e.method,
    intervalSeconds: String(e.intervalSeconds),
    timeoutSeconds: String(e.timeoutSeconds),
    expectedStatus: e.expectedStatus.join(', '),
    bodyKind: e.bodyMatch?.kind ?? '',
    bodyPattern: e.bodyMatch?.pattern ?? '',
    bodyNegate: e.bodyMatch?.negate ?? false,
    tlsVerify: e.tlsVerify,
    followRedirects: e.followRedirects,
    enabled: e.enabled,
    headers: e.headers.map((h) => ({
      name: h.name,
      value: h.value ?? '',
      secret: h.secret,
      stored: h.secret,
    })),
  };
}

function toFields(d: Draft) {
  const status = d.expectedStatus
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number);
  return {
    name: d.name.trim(),
    url: d.url.trim(),
    method: d.method,
    intervalSeconds: Number(d.intervalSeconds),
    timeoutSeconds: Number(d.timeoutSeconds),
    expectedStatus: status,
    bodyMatch: d.bodyKind ? { kind: d.bodyKind, pattern: d.bodyPattern, negate: d.bodyNegate } : null,
    tlsVerify: d.tlsVerify,
    followRedirects: d.followRedirects,
    enabled: d.enabled,
    headers: d.headers
      .filter((h) => h.name.trim())
      .map((h) =>
        h.stored && h.value === ''
          ? { name: h.name.trim(), secret: true }
          : { name: h.name.trim(), value: h.value, secret: h.secret },
      ),
  };
}

function EndpointForm({
  initial,
  onSaved,
  onCancel,
}: {
  initial?: EndpointConfig;
  onSaved(): void;
  onCancel(): void;
}) {
  const [d, setD] = useState<Draft>(initial ? toDraft(initial) : EMPTY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => setD((x) => ({ ...x, [k]: v }));
  const setHeader = (i: number, patch: Partial<HeaderDraft>) =>
    setD((x) => ({ ...x, headers: x.headers.map((h, j) => (j === i ? { ...h, ...patch } : h)) }));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      if (initial) await api.put(`/api/console/endpoints/${initial.id}`, toFields(d));
      else await api.post('/api/console/endpoints', toFields(d));
      onSaved();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} className="endpoint-form">
      <div className="grid-2">
        <Field label="Name" hint="Letters, digits, '.', '_' or '-'; the endpoint label of its metrics.">
          {(id) => (
            <input id={id} value={d.name} onChange={(e) => set('name', e.target.value)} required autoFocus />
          )}
        </Field>
        <Field label="URL">
          {(id) => (
            <input id={id} type="url" value={d.url} onChange={(e) => set('url', e.target.value)} required />
          )}
        </Field>
        <Field label="Method">
          {(id) => (
            <select id={id} value={d.method} onChange={(e) => set('method', e.target.value)}>
              {['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Accepted status codes" hint="Comma-separated; empty means any 2xx.">
          {(id) => (
            <input
              id={id}
              value={d.expectedStatus}
              onChange={(e) => set('expectedStatus', e.target.value)}
              placeholder="200, 301"
            />
          )}
        </Field>
        <Field label="Check every (seconds)">
          {(id) => (
            <input
              id={id}
              type="number"
              min={10}
              max={86400}
              value={d.intervalSeconds}
              onChange={(e) => set('intervalSeconds', e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="Timeout (seconds)">
          {(id) => (
            <input
              id={id}
              type="number"
              min={1}
              max={300}
              value={d.timeoutSeconds}
              onChange={(e) => set('timeoutSeconds', e.target.value)}
              required
            />
          )}
        </Field>
        <Field label="Response body check">
          {(id) => (
            <select
              id={id}
              value={d.bodyKind}
              onChange={(e) => set('bodyKind', e.target.value as Draft['bodyKind'])}
            >
              <option value="">None</option>
              <option value="keyword">Contains text</option>
              <option value="regex">Matches regular expression</option>
            </select>
          )}
        </Field>
        {d.bodyKind ? (
          <Field label={d.bodyKind === 'keyword' ? 'Text' : 'Regular expression'}>
            {(id) => (
              <input
                id={id}
                value={d.bodyPattern}
                onChange={(e) => set('bodyPattern', e.target.value)}
                required
              />
            )}
          </Field>
        ) : null}
      </div>
      <div className="checks">
        {d.bodyKind ? (
          <label className="check">
            <input
              type="checkbox"
              checked={d.bodyNegate}
              onChange={(e) => set('bodyNegate', e.target.checked)}
            />{' '}
            Fail when the body matches
          </label>
        ) : null}
        <label className="check">
          <input type="checkbox" checked={d.tlsVerify} onChange={(e) => set('tlsVerify', e.target.checked)} />{' '}
          Verify the TLS certificate
        </label>
        <label className="check">
          <input
            type="checkbox"
            checked={d.followRedirects}
            onChange={(e) => set('followRedirects', e.target.checked)}
          />{' '}
          Follow redirects
        </label>
        <label className="check">
          <input type="checkbox" checked={d.enabled} onChange={(e) => set('enabled', e.target.checked)} />{' '}
          Enabled
        </label>
      </div>
      <fieldset className="headers">
        <legend>Request headers</legend>
        {d.headers.map((h, i) => (
          <div className="header-row" key={i}>
            <input
              aria-label={`Header ${i + 1} name`}
              placeholder="Name"
              value={h.name}
              onChange={(e) => setHeader(i, { name: e.target.value })}
            />
            <input
              aria-label={`Header ${i + 1} value`}
              placeholder={h.stored ? '(stored secret — leave empty to keep)' : 'Value'}
              type={h.secret ? 'password' : 'text'}
              value={h.value}
              onChange={(e) => setHeader(i, { value: e.target.value })}
            />
            <label className="check">
              <input
                type="checkbox"
                checked={h.secret}
                onChange={(e) => setHeader(i, { secret: e.target.checked, stored: false })}
              />{' '}
              Secret
            </label>
            <Button
              size="sm"
              variant="ghost"
              aria-label={`Remove header ${i + 1}`}
              onClick={() => setD((x) => ({ ...x, headers: x.headers.filter((_, j) => j !== i) }))}
            >
              Remove
            </Button>
          </div>
        ))}
        <Button
          size="sm"
          onClick={() =>
            setD((x) => ({
              ...x,
              headers: [...x.headers, { name: '', value: '', secret: false, stored: false }],
            }))
          }
        >
          + Add header
        </Button>
      </fieldset>
      {error ? <ErrorBox error={error} /> : null}
      <div className="form-actions">
        <Button onClick={onCancel}>Cancel</Button>
        <Button type="submit" variant="primary" busy={busy}>
          {initial ? 'Save changes' : 'Add endpoint'}
        </Button>
      </div>
    </form>
  );
}

export function ManageEndpoints() {
  const list = useAsync((s) => api.get<EndpointConfig[]>('/api/console/endpoints', s), []);
  const [editing, setEditing] = useState<EndpointConfig | 'new'>();
  const [error, setError] = useState('');
  const remove = async (e: EndpointConfig) => {
    if (!confirm(`Remove endpoint check ${e.name}?`)) return;
    try {
      await api.del(`/api/console/endpoints/${e.id}`);
      list.reload();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <>
      <PageHeader
        title="Endpoint checks"
        subtitle="Websites and APIs Irin checks from the outside."
        actions={
          <Button variant="primary" onClick={() => setEditing('new')}>
            + Add endpoint
          </Button>
        }
      />
      {error ? <ErrorBox error={error} /> : null}
      {list.error ? <ErrorBox error={list.error} /> : null}
      <Card>
        {!list.data ? (
          <Spinner />
        ) : list.data.length === 0 ? (
          <Empty>No endpoints yet.</Empty>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">URL</th>
                  <th scope="col" className="num">
                    Interval
                  </th>
                  <th scope="col">Checks</th>
                  <th scope="col">State</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((e) => (
                  <tr key={e.id}>
                    <td>
                      <Link to={`/endpoints/${e.id}`} className="strong">
                        {e.name}
                      </Link>
                    </td>
                    <td className="mono small truncate" title={e.url}>
                      {e.method} {e.url}
                    </td>
                    <td className="num">{e.intervalSeconds} s</td>
                    <td className="small">
                      {e.expectedStatus.length ? `status ${e.expectedStatus.join('/')}` : '2xx'}
                      {e.bodyMatch
                        ? ` · body ${e.bodyMatch.negate ? 'not ' : ''}${e.bodyMatch.kind === 'keyword' ? 'containing' : 'matching'} “${e.bodyMatch.pattern}”`
                        : ''}
                      {e.tlsVerify ? '' : ' · TLS not verified'}
                    </td>
                    <td>
                      <StateBadge state={e.enabled ? 'active' : 'paused'} />
                    </td>
                    <td className="actions">
                      <Button size="sm" onClick={() => setEditing(e)}>
                        Edit
                      </Button>
                      <Button size="sm" variant="danger" onClick={() => remove(e)}>
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
      <Modal
        title={editing === 'new' ? 'Add an endpoint check' : editing ? `Edit ${editing.name}` : ''}
        open={!!editing}
        onClose={() => setEditing(undefined)}
        wide
      >
        {editing ? (
          <EndpointForm
            initial={editing === 'new' ? undefined : editing}
            onCancel={() => setEditing(undefined)}
            onSaved={() => {
              setEditing(undefined);
              list.reload();
            }}
          />
        ) : null}
      </Modal>
    </>
  );
}
