import type { FastifyRequest } from 'fastify';

/** A request as the authenticator sees it: source address and raw header lines. */
export function fakeRequest(ip: string, headers: [string, string][] = []): FastifyRequest {
  const parsed: Record<string, string> = {};
  for (const [k, v] of headers) parsed[k.toLowerCase()] ??= v;
  return { ip, raw: { rawHeaders: headers.flat() }, headers: parsed } as unknown as FastifyRequest;
}

export function cfHeaders(clientId: string, secret: string): [string, string][] {
  return [
    ['CF-Access-Client-Id', clientId],
    ['CF-Access-Client-Secret', secret],
  ];
}

export function bearer(token: string): [string, string][] {
  return [['Authorization', `Bearer ${token}`]];
}

export function basic(user: string, password: string): [string, string][] {
  return [['Authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`]];
}

/** A controllable clock. */
export function clock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}
