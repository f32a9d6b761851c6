/**
 * Errors of the control plane. Each carries the HTTP status the admin API answers with, so the
 * CLI and the HTTP layer report the same failure the same way.
 */
export abstract class ControlPlaneError extends Error {
  abstract readonly status: 400 | 404 | 409 | 503;
}

/** Bad input; the message states the rule that was broken. */
export class ValidationError extends ControlPlaneError {
  readonly status = 400 as const;
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends ControlPlaneError {
  readonly status = 404 as const;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

/** Duplicate, or an operation the object's current state does not allow. */
export class ConflictError extends ControlPlaneError {
  readonly status = 409 as const;
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}

/** The store cannot answer right now (locked, unreachable, I/O error): worth retrying. */
export class StoreUnavailableError extends ControlPlaneError {
  readonly status = 503 as const;
  constructor(
    message: string,
    readonly retryAfterSeconds = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
