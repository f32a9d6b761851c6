/**
 * Per-tenant log of endpoint state changes: `<dataDir>/tenants/<tenantId>/probe-events.jsonl`,
 * one JSON object per line. It lives inside the tenant's own partition directory, so it goes
 * away with the tenant. The prober appends a line when an endpoint's up/down state changes (and
 * for its first result); the uptime API reads it to name each incident's reason. Failure reasons
 * hold no secrets (no header values, no bodies).
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ProbeStateEvent } from './types.ts';

export interface ProbeEventStore {
  append(tenantId: number, event: ProbeStateEvent): Promise<void>;
  /** Events of one tenant (optionally one endpoint) in time order, t in [from, to] when given. */
  read(
    tenantId: number,
    filter?: { endpointId?: number; from?: number; to?: number },
  ): Promise<ProbeStateEvent[]>;
  /** The last event of every endpoint of the tenant. */
  lastStates(tenantId: number): Promise<Map<number, ProbeStateEvent>>;
}

export function probeEventsPath(dataDir: string, tenantId: number): string {
  if (!Number.isInteger(tenantId) || tenantId < 0) throw new Error(`invalid tenant id ${String(tenantId)}`);
  return join(dataDir, 'tenants', String(tenantId), 'probe-events.jsonl');
}

function isEvent(v: unknown): v is ProbeStateEvent {
  const e = v as ProbeStateEvent;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.t === 'number' &&
    typeof e.endpointId === 'number' &&
    (e.state === 'up' || e.state === 'down')
  );
}

/** Builds the query side of a store from "all events of a tenant". */
function queries(
  loadAll: (tenantId: number) => Promise<ProbeStateEvent[]>,
): Pick<ProbeEventStore, 'read' | 'lastStates'> {
  return {
    async read(tenantId, filter = {}) {
      return (await loadAll(tenantId)).filter(
        (e) =>
          (filter.endpointId === undefined || e.endpointId === filter.endpointId) &&
          (filter.from === undefined || e.t >= filter.from) &&
          (filter.to === undefined || e.t <= filter.to),
      );
    },
    async lastStates(tenantId) {
      const out = new Map<number, ProbeStateEvent>();
      for (const e of await loadAll(tenantId)) out.set(e.endpointId, e);
      return out;
    },
  };
}

export function createJsonlEventStore(dataDir: string): ProbeEventStore {
  // Appends of one tenant are chained so lines never interleave.
  const chains = new Map<number, Promise<void>>();
  const loadAll = async (tenantId: number): Promise<ProbeStateEvent[]> => {
    await chains.get(tenantId);
    let text: string;
    try {
      text = await readFile(probeEventsPath(dataDir, tenantId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ProbeStateEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const v: unknown = JSON.parse(line);
        if (isEvent(v)) out.push(v);
      } catch {
        // A torn last line after a crash: skip it, the next state change writes a fresh one.
      }
    }
    return out.sort((a, b) => a.t - b.t);
  };
  return {
    append(tenantId, event) {
      const path = probeEventsPath(dataDir, tenantId);
      const next = (chains.get(tenantId) ?? Promise.resolve()).then(async () => {
        await mkdir(dirname(path), { recursive: true });
        await appendFile(path, JSON.stringify(event) + '\n');
      });
      const settled = next.catch(() => undefined);
      chains.set(tenantId, settled);
      void settled.then(() => {
        if (chains.get(tenantId) === settled) chains.delete(tenantId);
      });
      return next;
    },
    ...queries(loadAll),
  };
}

/** An in-memory store (tests, or a deployment without a data directory). */
export function createMemoryEventStore(): ProbeEventStore {
  const byTenant = new Map<number, ProbeStateEvent[]>();
  return {
    async append(tenantId, event) {
      const list = byTenant.get(tenantId) ?? [];
      list.push(event);
      byTenant.set(tenantId, list);
    },
    ...queries(async (tenantId) => [...(byTenant.get(tenantId) ?? [])].sort((a, b) => a.t - b.t)),
  };
}
