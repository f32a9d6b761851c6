import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { IRIN_VERSION } from './version.ts';

/** The process's own metrics, served at /metrics. One registry per server instance (tests run several). */
export function createSelfMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'irin_' });
  const buildInfo = new Gauge({
    name: 'irin_build_info',
    help: 'Irin build information; the value is always 1.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  buildInfo.set({ version: IRIN_VERSION, node_version: process.version }, 1);
  return registry;
}
