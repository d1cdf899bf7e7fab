import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type {} from '@fastify/cookie';
import type { Kysely } from 'kysely';
import { hasRole } from '../accounts/roles.ts';
import { findActiveSession, type ActiveSession, type NewSession } from '../accounts/sessions.ts';
import { safeEqual } from '../accounts/tokens.ts';
import type { DB, Role } from '../db/schema.ts';
import { ApiError } from './errors.ts';

export const SESSION_COOKIE = 'seatwise_session';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FORM_FIELD = '_csrf';

/**
 * The access a route requires: `public` needs no session, and a role needs a session whose role
 * is that role or above. Every route declares it in `config.access`, and the OpenAPI document shows it.
 */
export type Access = 'public' | Role;

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    /** The signed-in session, or null. Set for every request before validation. */
    session: ActiveSession | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Reads the session cookie of every request, then enforces each route's `access` and, on
 * state-changing requests, the same-site check and the CSRF token.
 */
export function registerAccessControl(app: FastifyInstance, db: Kysely<DB>, publicUrl: () => string): void {
  app.decorateRequest('session', null);

  app.addHook('onRequest', async (request) => {
    const token = request.cookies[SESSION_COOKIE];
    request.session = token ? await findActiveSession(db, token) : null;
  });

  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined) {
      // Routes without a declared access are those of plugins (static files, the 404 handler).
      return;
    }
    const isStateChanging = !SAFE_METHODS.has(request.method);
    if (isStateChanging) rejectCrossSiteRequest(request, new URL(publicUrl()).host);
    if (access === 'public') return;

    const session = request.session;
    if (session === null) throw new ApiError('session_required');
    if (isStateChanging) checkCsrfToken(request, session);
    if (!hasRole(session.user.role, access)) throw new ApiError('role_forbidden');
  });
}

/**
 * Rejects a state-changing request that a browser sent from another site, before it changes
 * anything. `Sec-Fetch-Site` decides when present: `same-origin` passes, `same-site` and
 * `cross-site` fail. Without it, the `Origin` decides: it must be the request's own host or,
 * behind a proxy that rewrites `Host`, the public URL's. `Origin: null` (an opaque origin, also
 * sent by Chromium for same-origin posts under `Referrer-Policy: no-referrer`) fails, because
 * only `Sec-Fetch-Site: same-origin` can show such a request came from Seatwise. Requests with
 * neither header come from clients other than browsers, which cross-site forms cannot drive.
 * https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header
 */
function rejectCrossSiteRequest(request: FastifyRequest, publicHost: string): void {
  const fetchSite = request.headers['sec-fetch-site'];
  if (fetchSite === 'same-origin') return;
  if (fetchSite !== undefined && fetchSite !== 'none') throw new ApiError('cross_site_request');

  const origin = request.headers.origin;
  if (origin === undefined) return;
  if (origin === 'null') throw new ApiError('cross_site_request');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new ApiError('cross_site_request');
  }
  if (originHost !== request.headers.host && originHost !== publicHost) throw new ApiError('cross_site_request');
}

function checkCsrfToken(request: FastifyRequest, session: ActiveSession): void {
  const fromHeader = request.headers[CSRF_HEADER];
  const body = request.body as Record<string, unknown> | null | undefined;
  const fromForm = typeof body === 'object' && body !== null ? body[CSRF_FORM_FIELD] : undefined;
  let presented: string | undefined;
  if (typeof fromHeader === 'string') presented = fromHeader;
  else if (typeof fromForm === 'string') presented = fromForm;
  if (presented === undefined || !safeEqual(presented, session.csrfToken)) throw new ApiError('csrf_invalid');
}

/** Returns the signed-in session of a route whose access requires one, and throws (a bug) when absent. */
export function requireSession(request: FastifyRequest): ActiveSession {
  if (request.session === null) throw new Error(`Route ${request.routeOptions.url} needs a session but declares public access`);
  return request.session;
}

export function setSessionCookie(reply: FastifyReply, session: NewSession, isSecure: boolean): void {
  reply.setCookie(SESSION_COOKIE, session.token, {
    httpOnly: true,
    // Lax, not Strict: the OAuth callback is a top-level navigation back from PagerDuty and
    // must carry the cookie to find the session its state is bound to.
    sameSite: 'lax',
    path: '/',
    secure: isSecure,
    expires: session.expiresAt,
  });
}

export function clearSessionCookie(reply: FastifyReply, isSecure: boolean): void {
  reply.clearCookie(SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/', secure: isSecure });
}
