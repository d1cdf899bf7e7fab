/**
 * The catalogue of API errors. Every error the API returns carries one of these stable codes in
 * the envelope `{ error: { code, message } }`, with a message that states what failed and what to do next.
 */
export const API_ERRORS = {
  invalid_request: { statusCode: 400, message: 'The request is invalid; correct the named field and send it again.' },
  body_too_large: { statusCode: 413, message: 'The request body is larger than this API accepts; send a smaller body.' },
  headers_too_large: {
    statusCode: 431,
    message: "The request headers are larger than this server accepts (16 KB with Node.js defaults); clear this site's cookies or send fewer headers, then try again.",
  },
  malformed_request: { statusCode: 400, message: 'The request is not valid HTTP/1.1; check the client that sent it and send it again.' },
  request_timeout: { statusCode: 408, message: 'The request took too long to arrive; send it again.' },
  unsupported_media_type: {
    statusCode: 415,
    message: 'The request body must be JSON (Content-Type: application/json); send it again as JSON.',
  },
  session_required: { statusCode: 401, message: 'You are not signed in or your session expired; sign in and try again.' },
  invalid_credentials: { statusCode: 401, message: 'The email address or password is wrong; check both and try again.' },
  csrf_invalid: {
    statusCode: 403,
    message: 'The request did not carry a valid CSRF token; reload the page and try again.',
  },
  cross_site_request: {
    statusCode: 403,
    message: 'The request came from another site and was rejected; open Seatwise directly and try again.',
  },
  role_forbidden: {
    statusCode: 403,
    message: 'Your role does not allow this action; ask an owner or admin of your organization.',
  },
  not_found: { statusCode: 404, message: 'Nothing exists at this address; check the URL.' },
  no_organization: {
    statusCode: 403,
    message: 'Your account belongs to no Seatwise organization any more; ask an admin of your organization to invite you again.',
  },
  organization_not_found: {
    statusCode: 404,
    message: 'You are not a member of this organization; pick one from the organization menu.',
  },
  member_not_found: { statusCode: 404, message: 'This person is not a member of your organization; reload the members list.' },
  invite_not_found: { statusCode: 404, message: 'This invitation is not pending any more; reload the list of invitations.' },
  already_member: { statusCode: 409, message: 'This person is already a member of your organization; change their role in the members list instead.' },
  owner_required: {
    statusCode: 403,
    message: 'Only an owner can make someone an owner or change or remove an owner; ask an owner of your organization.',
  },
  last_owner: {
    statusCode: 409,
    message: 'An organization needs at least one owner; make another member an owner first.',
  },
  setup_complete: { statusCode: 409, message: 'Seatwise is already set up; sign in instead.' },
  email_taken: { statusCode: 409, message: 'A Seatwise user with this email address already exists; sign in or use another address.' },
  not_connected: { statusCode: 409, message: 'PagerDuty is not connected; connect it on the PagerDuty app page first.' },
  needs_reconnect: {
    statusCode: 409,
    message: 'Seatwise no longer has access to PagerDuty; click Reconnect on the PagerDuty app page.',
  },
  api_key_invalid: {
    statusCode: 422,
    message: 'PagerDuty did not accept the API key; check that it is an account REST API key and paste it again.',
  },
  account_mismatch: {
    statusCode: 409,
    message: 'This is a different PagerDuty account than the one Seatwise holds data for; disconnect and delete its data first to connect another.',
  },
  reset_link_invalid: {
    statusCode: 400,
    message: 'This password-reset link expired or was already used; request a new one from the sign-in page.',
  },
  invite_invalid: {
    statusCode: 410,
    message: 'This invitation link expired or was already used; ask the person who invited you for a new one.',
  },
  rate_limited: { statusCode: 429, message: 'Too many attempts; wait a minute and try again.' },
  pagerduty_unavailable: {
    statusCode: 502,
    message: 'PagerDuty did not respond as expected; try again in a few minutes.',
  },
  internal_error: {
    statusCode: 500,
    message: 'Seatwise failed to handle the request; try again, and contact support if it keeps failing.',
  },
} as const satisfies Record<string, { statusCode: number; message: string }>;

export type ApiErrorCode = keyof typeof API_ERRORS;

/** An expected API failure: handlers throw it and the error handler renders the envelope. */
export class ApiError extends Error {
  readonly statusCode: number;

  constructor(
    readonly code: ApiErrorCode,
    message?: string,
  ) {
    super(message ?? API_ERRORS[code].message);
    this.name = 'ApiError';
    this.statusCode = API_ERRORS[code].statusCode;
  }
}

export interface ErrorEnvelope {
  error: { code: string; message: string };
}

export function errorEnvelope(code: ApiErrorCode, message?: string): ErrorEnvelope {
  return { error: { code, message: message ?? API_ERRORS[code].message } };
}
