import { SimulatedNode } from '../../src/client/simulated-node.ts';
import { PreEncodedSeries } from './fast-write-request.ts';

/**
 * The benchmark fleet: tenants × servers × ~600 node_exporter-like series each. Deterministic,
 * so Irin and Prometheus are fed exactly the same stream.
 */
export interface FleetServer {
  readonly tenant: string;
  readonly instance: string;
  readonly node: SimulatedNode;
  readonly encoded: PreEncodedSeries[];
}

/** A fleet member: the node and its series' labels pre-encoded for the write requests. */
export function fleetServer(tenant: string, node: SimulatedNode): FleetServer {
  return {
    tenant,
    instance: node.options.instance,
    node,
    encoded: node.series.map((m) => new PreEncodedSeries(m.labels)),
  };
}

export function buildFleet(tenants: number, withTenantLabel: boolean): FleetServer[] {
  const servers: FleetServer[] = [];
  for (let t = 0; t < tenants; t++) {
    const tenant = `bench-${String(t).padStart(2, '0')}`;
    const count = 5 + (t % 6);
    for (let s = 0; s < count; s++) {
      const instance = `${tenant}-svr${String(s + 1).padStart(2, '0')}`;
      const node = new SimulatedNode({
        instance,
        ...(withTenantLabel ? { tenant } : {}),
        seed: t * 1000 + s,
      });
      servers.push(fleetServer(tenant, node));
    }
  }
  return servers;
}

/** Advances a server by `scrapes` scrapes from `t0` and returns each series' values (one row per series). */
export function nextValues(
  server: FleetServer,
  t0: number,
  scrapes: number,
  intervalMs: number,
): { timestamps: number[]; values: Float64Array[] } {
  const timestamps: number[] = [];
  const n = server.node.series.length;
  const values = server.node.series.map(() => new Float64Array(scrapes));
  const row = new Float64Array(n);
  for (let k = 0; k < scrapes; k++) {
    // A few ms of scrape jitter, as real scrapes have.
    const t = t0 + k * intervalMs + ((k * 7 + server.instance.length) % 5);
    timestamps.push(t);
    server.node.advance(t, intervalMs, row);
    for (let i = 0; i < n; i++) values[i]![k] = row[i]!;
  }
  return { timestamps, values };
}
