import { ConflictError, ControlPlaneError, StoreUnavailableError } from '../errors.ts';

/**
 * Maps a better-sqlite3 failure onto the control plane's errors. Anything that means "the database
 * cannot answer right now" (locked, busy, I/O, full, closed) becomes StoreUnavailableError, which
 * the push path turns into 503 + Retry-After instead of a 401 that would make agents drop data.
 */
const UNAVAILABLE_CODES =
  /^SQLITE_(BUSY|LOCKED|IOERR|CANTOPEN|FULL|READONLY|PROTOCOL|NOMEM|CORRUPT|NOTADB|INTERRUPT)/;

export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function mapSqliteError(err: unknown): Error {
  if (err instanceof ControlPlaneError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNAVAILABLE_CODES.test(code)) {
    return new StoreUnavailableError(`control-plane database unavailable (${code})`, 2, { cause: err });
  }
  // better-sqlite3 throws a TypeError on a closed connection.
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new StoreUnavailableError('control-plane database is closed', 5, { cause: err });
  }
  if (isUniqueViolation(err)) return new ConflictError('already exists');
  return err instanceof Error ? err : new Error(String(err));
}
