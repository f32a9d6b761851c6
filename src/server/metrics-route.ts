import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export async function selfMetricsRoute(app: FastifyInstance, registry: Registry): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    const body = await registry.metrics();
    return reply.type(registry.contentType).send(body);
  });
}
