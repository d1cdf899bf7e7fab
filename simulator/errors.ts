/**
 * PagerDuty REST error codes the simulator returns, and the envelope
 * `{"error": {"message", "code", "errors"?}}` that PagerDuty documents for every API error.
 */
export const PD_ERRORS = {
  internalError: { status: 500, code: 2000, message: 'Internal Error' },
  invalidInput: { status: 400, code: 2001, message: 'Invalid Input Provided' },
  /** The brief names `Invalid Input Provided` as the message; third-party reports also show `Arguments Caused Error`. */
  offsetLimitExceeded: { status: 400, code: 2002, message: 'Invalid Input Provided' },
  authenticationFailed: { status: 401, code: 2006, message: 'Authentication failed' },
  accessDenied: { status: 403, code: 2010, message: 'Access Denied' },
  missingAbility: { status: 402, code: 2014, message: 'Required abilities are unavailable' },
  rateLimited: { status: 429, code: 2020, message: 'Rate Limit Exceeded' },
  notFound: { status: 404, code: 2100, message: 'Not Found' },
} as const;

export type PdErrorKind = keyof typeof PD_ERRORS;

export interface PdErrorBody {
  error: { message: string; code: number; errors?: string[] };
}

export class PdError extends Error {
  constructor(
    readonly kind: PdErrorKind,
    readonly details: string[] = [],
  ) {
    super(`${PD_ERRORS[kind].message}${details.length > 0 ? `: ${details.join('; ')}` : ''}`);
    this.name = 'PdError';
  }

  get status(): number {
    return PD_ERRORS[this.kind].status;
  }

  body(): PdErrorBody {
    const { code, message } = PD_ERRORS[this.kind];
    return { error: { message, code, ...(this.details.length > 0 ? { errors: this.details } : {}) } };
  }
}

/** The exact 400 response PagerDuty returns when `offset + limit` passes 10,000. */
export const OFFSET_LIMIT_EXCEEDED_DETAIL = 'Offset+limit exceeds maximum allowed value of 10000';
