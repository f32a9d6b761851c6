import type { FastifyRequest } from 'fastify';
import type { PushPrincipal, ReadPrincipal } from './principal.ts';

/**
 * Why a credential was not accepted. `status` is what the HTTP layer answers:
 * 401 bad/absent/revoked/expired credential (never revealing whether the id exists),
 * 403 a valid credential of the wrong kind (a push token reading, a read key pushing),
 * 429 too many failures from this source address, 503 the credential store cannot answer.
 */
export class CredentialError extends Error {
  constructor(
    readonly status: 401 | 403 | 429 | 503,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

/** The contract between the HTTP routes and the credential layer (isolation layer 1). */
export interface RequestAuthenticator {
  /** Resolves a push token from CF-Access-Client-Id/-Secret, Bearer or Basic; throws CredentialError. */
  authenticatePush(request: FastifyRequest): Promise<PushPrincipal>;
  /** Resolves a read API key (Bearer/Basic) or console session cookie; throws CredentialError. */
  authenticateRead(request: FastifyRequest): Promise<ReadPrincipal>;
}
