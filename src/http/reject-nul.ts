import type { FastifyInstance } from 'fastify';
import { ApiError } from './errors.ts';

/** A NUL character, raw or percent-encoded; PostgreSQL text cannot store it. */
const NUL_IN_URL = /%00|\u0000/;

/**
 * Rejects a request whose URL carries a NUL character before any route handles it. PostgreSQL
 * raises "invalid byte sequence" for NUL in text parameters, which would surface as a 500.
 */
export function rejectNulCharacters(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (NUL_IN_URL.test(request.url)) {
      throw new ApiError('invalid_request', 'The address contains a NUL character (%00), which no path or query value may contain; remove it and send the request again.');
    }
  });
}
