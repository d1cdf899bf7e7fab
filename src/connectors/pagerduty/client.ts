import { channel } from 'node:diagnostics_channel';
import type { z } from 'zod';
import type { Logger } from '../../lib/logger.ts';
import { err, ok, type Result } from '../../lib/result.ts';
import { classifyResponse, isRetryable, parseErrorBody, type ApiError } from './errors.ts';
import { MAX_PAGE_SIZE, OFFSET_CAP, PAGERDUTY_ACCEPT_HEADER, RATE_LIMIT_HEADERS } from './provider.ts';
import { type RateBudget, type RateHeaders, sharedRateBudget } from './rate-budget.ts';
import { cursorPageSchema, describeSchemaError, offsetPageSchema } from './schemas.ts';

/** A finished request to PagerDuty, published on `PAGERDUTY_RESPONSE_CHANNEL` for metrics. */
export interface PagerDutyResponseEvent {
  /** The HTTP status, or null when no response arrived. */
  status: number | null;
  durationMs: number;
  rate: RateHeaders;
}

/** The diagnostics channel every `PagerDutyClient` publishes finished requests on. */
export const PAGERDUTY_RESPONSE_CHANNEL = 'seatwise:pagerduty:response';
const responseChannel = channel(PAGERDUTY_RESPONSE_CHANNEL);

/** The credential a request sends: an OAuth access token, or a REST API key. */
export type PagerDutyCredential = { kind: 'oauth'; accessToken: string } | { kind: 'api_key'; apiKey: string };

export function authorizationHeader(credential: PagerDutyCredential): string {
  switch (credential.kind) {
    // OAuth access tokens, user or app, are bearer tokens.
    case 'oauth':
      return `Bearer ${credential.accessToken}`;
    // Account and user API keys use PagerDuty's own scheme.
    case 'api_key':
      return `Token token=${credential.apiKey}`;
    default: {
      const unreachable: never = credential;
      throw new Error(`Unknown credential kind ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * Supplies the credential for each request. `renew` is called once per request after a 401 with
 * the credential PagerDuty rejected. It returns a new credential (a refreshed OAuth token), or
 * null when nothing can cure the 401.
 */
export interface CredentialSource {
  current(): Promise<PagerDutyCredential>;
  renew?(rejected: PagerDutyCredential): Promise<PagerDutyCredential | null>;
}

export interface RetryPolicy {
  /** Attempts per request for 5xx, timeouts and resets, the first included. */
  maxAttempts: number;
  /** Attempts per request while PagerDuty returns 429, the first included. */
  maxRateLimitedAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, maxRateLimitedAttempts: 12, baseDelayMs: 250, maxDelayMs: 15_000 };

export interface PagerDutyClientOptions {
  apiBaseUrl: string;
  credentials: CredentialSource;
  logger: Logger;
  /** Defaults to the budget shared by every client of the same token. */
  budget?: RateBudget;
  retry?: Partial<RetryPolicy>;
  /** Per attempt, in milliseconds. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type QueryValue = string | number | boolean | readonly string[] | undefined;
export type Query = Record<string, QueryValue>;

export interface OffsetPage<T> {
  items: T[];
  offset: number;
  limit: number;
  more: boolean;
  /** Present when the request asked for `total=true`. */
  total: number | null;
}

export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * A typed PagerDuty REST API v2 client: one rate budget per token, retries with jittered backoff
 * for 429, 5xx, timeouts and resets, a single token renewal after a 401, zod-checked responses,
 * and offset paging that never sends `offset + limit` above 10,000.
 */
export class PagerDutyClient {
  readonly apiBaseUrl: string;
  readonly #credentials: CredentialSource;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy;
  readonly #timeoutMs: number;
  readonly #signal: AbortSignal | undefined;
  #budget: RateBudget | undefined;
  #requestCount = 0;

  constructor(options: PagerDutyClientOptions) {
    this.apiBaseUrl = options.apiBaseUrl.replace(/\/+$/, '');
    this.#credentials = options.credentials;
    this.#logger = options.logger;
    this.#budget = options.budget;
    this.#retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#signal = options.signal;
  }

  /** HTTP requests sent so far, retries included. */
  get requestCount(): number {
    return this.#requestCount;
  }

  async get<S extends z.ZodType>(path: string, query: Query, schema: S): Promise<Result<z.infer<S>, ApiError>> {
    return this.request('GET', path, query, undefined, schema);
  }

  async post<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<Result<z.infer<S>, ApiError>> {
    return this.request('POST', path, {}, body, schema);
  }

  /**
   * Reads one page of a classic offset-paginated list. The limit shrinks so `offset + limit`
   * never passes 10,000; a page that cannot start below the cap is an `offset_cap` error, not sent.
   */
  async getOffsetPage<Item extends z.ZodType>(
    path: string,
    query: Query,
    key: string,
    item: Item,
    page: { offset: number; limit?: number; total?: boolean },
  ): Promise<Result<OffsetPage<z.infer<Item>>, ApiError>> {
    const limit = Math.min(page.limit ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE, OFFSET_CAP - page.offset);
    if (limit <= 0) {
      return err({
        kind: 'offset_cap',
        status: null,
        code: null,
        message: `offset ${page.offset} reaches PagerDuty's cap of ${OFFSET_CAP} records per query; narrow the query with filters or a shorter time window`,
        request: `GET ${path}`,
      });
    }

    const fullQuery: Query = { ...query, limit, offset: page.offset, total: page.total === true ? true : undefined };
    const result = await this.get(path, fullQuery, offsetPageSchema(key, item));
    if (!result.ok) return result;

    const body = result.value as Record<string, unknown>;
    const items = body[key] as z.infer<Item>[];
    return ok({
      items,
      offset: page.offset,
      limit,
      more: body.more === true,
      total: typeof body.total === 'number' ? body.total : null,
    });
  }

  /** Reads a classic offset-paginated list to its end, calling `onPage` after every page. */
  async listAll<Item extends z.ZodType>(
    path: string,
    query: Query,
    key: string,
    item: Item,
    onPage: (page: OffsetPage<z.infer<Item>>) => Promise<void>,
  ): Promise<Result<{ pages: number; records: number }, ApiError>> {
    let offset = 0;
    let pages = 0;
    let records = 0;
    for (;;) {
      const page = await this.getOffsetPage(path, query, key, item, { offset });
      if (!page.ok) return page;
      pages += 1;
      records += page.value.items.length;
      await onPage(page.value);
      if (!page.value.more || page.value.items.length === 0) return ok({ pages, records });
      offset += page.value.limit;
    }
  }

  /** Reads one page of a cursor-paginated list. */
  async getCursorPage<Item extends z.ZodType>(
    path: string,
    query: Query,
    key: string,
    item: Item,
    cursor: string | null,
  ): Promise<Result<CursorPage<z.infer<Item>>, ApiError>> {
    const result = await this.get(path, { ...query, limit: MAX_PAGE_SIZE, cursor: cursor ?? undefined }, cursorPageSchema(key, item));
    if (!result.ok) return result;
    const body = result.value as Record<string, unknown>;
    const nextCursor = typeof body.next_cursor === 'string' && body.next_cursor !== '' ? body.next_cursor : null;
    return ok({ items: body[key] as z.infer<Item>[], nextCursor });
  }

  /** Sends one request with retries, renewal after a 401 and schema validation of the response. */
  async request<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    query: Query,
    body: unknown,
    schema: S,
  ): Promise<Result<z.infer<S>, ApiError>> {
    const url = this.#url(path, query);
    const description = `${method} ${path}`;
    let credential = await this.#credentials.current();
    let hasRenewed = false;
    let failures = 0;
    let rateLimitedFailures = 0;

    for (;;) {
      const attempt = await this.#send(method, url, body, credential, description);
      if (attempt.ok) return this.#validate(attempt.value, schema, description);
      const error = attempt.error;

      if (error.kind === 'unauthorized' && !hasRenewed && this.#credentials.renew) {
        hasRenewed = true;
        const renewed = await this.#credentials.renew(credential);
        if (renewed === null) return err(error);
        credential = renewed;
        continue;
      }
      if (!isRetryable(error)) return err(error);

      if (error.kind === 'rate_limited') {
        rateLimitedFailures += 1;
        if (rateLimitedFailures >= this.#retry.maxRateLimitedAttempts) return err(error);
        // The budget already paused every request of this token; waiting for it is the backoff.
        this.#logger.debug({ request: description, attempt: rateLimitedFailures }, 'PagerDuty rate limit reached; waiting for the budget to reset');
        continue;
      }

      failures += 1;
      if (failures >= this.#retry.maxAttempts) return err(error);
      const delayMs = backoffDelayMs(failures, this.#retry);
      this.#logger.warn({ request: description, attempt: failures, delayMs, status: error.status, reason: error.message }, 'PagerDuty request failed; retrying');
      await sleep(delayMs, this.#signal);
    }
  }

  async #send(
    method: 'GET' | 'POST',
    url: string,
    body: unknown,
    credential: PagerDutyCredential,
    description: string,
  ): Promise<Result<unknown, ApiError>> {
    const budget = this.#budgetFor(credential);
    const release = await budget.acquire(this.#signal);
    this.#requestCount += 1;
    const startedAtMs = performance.now();

    let response: Response;
    let text: string;
    try {
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const signal = this.#signal ? AbortSignal.any([this.#signal, timeout]) : timeout;
      response = await fetch(url, {
        method,
        headers: {
          Accept: PAGERDUTY_ACCEPT_HEADER,
          Authorization: authorizationHeader(credential),
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      release();
      publishResponse({ status: null, durationMs: performance.now() - startedAtMs, rate: { limit: null, remaining: null, resetSeconds: null } });
      // The run's own cancellation is not a network fault: let it end the run.
      this.#signal?.throwIfAborted();
      const message = error instanceof Error ? `${error.name}: ${error.message}${causeOf(error)}` : String(error);
      return err({ kind: 'network', status: null, code: null, message, request: description });
    }
    release();

    const rate = rateHeadersOf(response.headers);
    budget.observe(rate, response.status);
    publishResponse({ status: response.status, durationMs: performance.now() - startedAtMs, rate });
    if (response.ok) {
      if (text.trim() === '') return ok(null);
      try {
        return ok(JSON.parse(text));
      } catch {
        return err({ kind: 'invalid_response', status: response.status, code: null, message: 'the response body is not JSON', request: description });
      }
    }
    return err(classifyResponse(response.status, parseErrorBody(text), description));
  }

  #validate<S extends z.ZodType>(value: unknown, schema: S, description: string): Result<z.infer<S>, ApiError> {
    const parsed = schema.safeParse(value);
    if (parsed.success) return ok(parsed.data);
    return err({
      kind: 'invalid_response',
      status: 200,
      code: null,
      message: `unexpected response shape at ${describeSchemaError(parsed.error)}`,
      request: description,
    });
  }

  #budgetFor(credential: PagerDutyCredential): RateBudget {
    if (!this.#budget) {
      this.#budget = sharedRateBudget(credential.kind === 'oauth' ? credential.accessToken : credential.apiKey);
    }
    return this.#budget;
  }

  /** Builds the URL from one map of parameters, so no key is ever sent twice. */
  #url(path: string, query: Query): string {
    const url = new URL(`${this.apiBaseUrl}${path.startsWith('/') ? path : `/${path}`}`);
    for (const [name, value] of Object.entries(query)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) {
        const arrayName = name.endsWith('[]') ? name : `${name}[]`;
        for (const element of value as readonly string[]) url.searchParams.append(arrayName, element);
      } else {
        url.searchParams.set(name, String(value));
      }
    }
    return url.toString();
  }
}

function publishResponse(event: PagerDutyResponseEvent): void {
  if (responseChannel.hasSubscribers) responseChannel.publish(event);
}

function rateHeadersOf(headers: Headers): RateHeaders {
  const number = (name: string): number | null => {
    const value = headers.get(name);
    if (value === null || value.trim() === '') return null;
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  };
  return { limit: number(RATE_LIMIT_HEADERS.limit), remaining: number(RATE_LIMIT_HEADERS.remaining), resetSeconds: number(RATE_LIMIT_HEADERS.reset) };
}

/** Exponential backoff with full jitter: a random delay up to `base * 2^(attempt-1)`, capped. */
export function backoffDelayMs(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

function causeOf(error: Error): string {
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error) return ` (${cause.message})`;
  return '';
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
