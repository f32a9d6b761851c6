import type { AuditEntry } from '../types.ts';
import { dateTime } from '../format.ts';
import { Empty } from './ui.tsx';

export function AuditTable({
  entries,
  showTenant,
}: {
  entries: AuditEntry[];
  showTenant?: (id: number | null) => string;
}) {
  if (entries.length === 0) return <Empty>No entries.</Empty>;
  return (
    <div className="table-wrap">
      <table className="table table-compact">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            {showTenant ? <th scope="col">Tenant</th> : null}
            <th scope="col">Target</th>
            <th scope="col">From</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td className="nowrap small">{dateTime(e.at)}</td>
              <td className="mono small">{e.actor}</td>
              <td className="mono small">{e.action}</td>
              {showTenant ? <td className="small">{showTenant(e.tenantId)}</td> : null}
              <td className="mono small truncate" title={e.target ?? ''}>
                {e.target ?? '–'}
              </td>
              <td className="mono small">{e.sourceAddr ?? '–'}</td>
              <td className="mono small details-cell">
                {Object.entries(e.details)
                  .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
                  .map(([k, v]) => {
                    const text = typeof v === 'string' ? v : JSON.stringify(v);
                    return (
                      <span key={k} className="detail-pair" title={`${k}: ${text}`}>
                        <span className="k">{k}=</span>
                        {text}
                      </span>
                    );
                  })}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
