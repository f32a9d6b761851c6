/**
 * Query errors carry the Prometheus API's `errorType`: parse/type errors are `bad_data` (400),
 * evaluation errors `execution` (422), deadline `timeout` and client abort `canceled` (503).
 */
export type QueryErrorType = 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal';

export class QueryError extends Error {
  constructor(
    readonly errorType: QueryErrorType,
    message: string,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export function executionError(message: string): QueryError {
  return new QueryError('execution', message);
}

export const DUPLICATE_LABELSET = 'vector cannot contain metrics with the same labelset';
