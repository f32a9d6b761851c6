import type { FastifyInstance } from 'fastify';

export interface Readiness {
  /** False until every store has opened, and again from the moment shutdown begins. */
  ready: boolean;
}

/** Liveness and readiness endpoints, named as Prometheus names them. */
export async function healthRoutes(app: FastifyInstance, readiness: Readiness): Promise<void> {
  app.get('/-/healthy', async (_req, reply) => reply.type('text/plain').send('Irin is Healthy.\n'));
  app.get('/-/ready', async (_req, reply) => {
    if (!readiness.ready) return reply.code(503).type('text/plain').send('Irin is not ready.\n');
    return reply.type('text/plain').send('Irin is Ready.\n');
  });
}
