/** Small HTTP helpers for tests. */
export interface PromVectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromResponse<T = unknown> {
  status: 'success' | 'error';
  data: T;
  errorType?: string;
  error?: string;
}

export async function promGet<T = unknown>(
  baseUrl: string,
  path: string,
  auth: string,
  params: Record<string, string> = {},
): Promise<{ status: number; body: PromResponse<T> }> {
  const url = new URL(`${baseUrl}/prometheus/api/v1/${path}`);
  for (const [k, v] of Object.entries(params)) url.searchParams.append(k, v);
  const res = await fetch(url, { headers: { authorization: auth } });
  return { status: res.status, body: (await res.json()) as PromResponse<T> };
}

/** Instant query; returns the vector result (throws on an error answer). */
export async function instantVector(
  baseUrl: string,
  auth: string,
  query: string,
  time?: number,
): Promise<PromVectorSample[]> {
  const { status, body } = await promGet<{ resultType: string; result: PromVectorSample[] }>(
    baseUrl,
    'query',
    auth,
    {
      query,
      ...(time !== undefined ? { time: String(time / 1000) } : {}),
    },
  );
  if (status !== 200 || body.status !== 'success')
    throw new Error(`query ${query} failed: ${status} ${JSON.stringify(body)}`);
  return body.data.result;
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
