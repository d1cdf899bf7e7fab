import { createHash } from 'node:crypto';
import { RATE_LIMIT_PER_MINUTE } from './provider.ts';

/** Share of the advertised limit the budget paces to, leaving room for clock skew between windows. */
const PACING_SHARE = 0.97;
/** Requests the budget lets start at once after an idle spell. */
const BURST_SECONDS = 1;
/** Requests of one token in flight at once; the token bucket, not this cap, sets the pace. */
export const DEFAULT_MAX_IN_FLIGHT = 16;
/** Backoff after a 429 without `ratelimit-reset`: doubles from the first value up to the cap. */
const RATE_LIMITED_FIRST_BACKOFF_MS = 1_000;
const RATE_LIMITED_MAX_BACKOFF_MS = 60_000;

export interface RateBudgetOptions {
  limitPerMinute?: number;
  maxInFlight?: number;
  /** The bucket every process using the same token draws from, such as a PostgreSQL row. */
  shared?: SharedTokenBucket;
  /** Receives a failed write of a pause to the shared bucket; the local pause still applies. */
  onSharedError?: (error: unknown) => void;
}

/**
 * A token bucket that several processes draw from. `take` resolves once a token is taken for
 * one request, and `pauseFor` stops every process's requests, as a 429 must.
 */
export interface SharedTokenBucket {
  take(rate: { perMs: number; capacity: number }, signal?: AbortSignal): Promise<void>;
  pauseFor(ms: number): Promise<void>;
}

export interface RateHeaders {
  limit: number | null;
  remaining: number | null;
  resetSeconds: number | null;
}

/**
 * One token's request budget, shared by every request made with that token in this process. It
 * combines a token bucket paced just under the per-minute limit and a cap on requests in flight.
 * `ratelimit-remaining`, `ratelimit-reset` and 429 responses pause all of them at once. With a
 * `shared` bucket each request also takes a token from it, so processes that use one token
 * together stay under the limit, and a pause reaches all of them.
 */
export class RateBudget {
  #ratePerMs: number;
  #capacity: number;
  #tokens: number;
  #refilledAt = Date.now();
  #inFlight = 0;
  readonly #maxInFlight: number;
  #pausedUntil = 0;
  #consecutiveRateLimits = 0;
  readonly #waiters: Array<{ wake: () => void; abort: (reason: unknown) => void; signal: AbortSignal | null }> = [];
  /** The one abort listener per signal that has waiters. */
  readonly #abortListeners = new Map<AbortSignal, () => void>();
  #timer: NodeJS.Timeout | null = null;
  readonly #shared: SharedTokenBucket | null;
  readonly #onSharedError: (error: unknown) => void;

  constructor(options: RateBudgetOptions = {}) {
    const limit = options.limitPerMinute ?? RATE_LIMIT_PER_MINUTE;
    this.#ratePerMs = (limit * PACING_SHARE) / 60_000;
    this.#capacity = Math.max(1, Math.floor(limit / 60) * BURST_SECONDS);
    this.#tokens = this.#capacity;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#shared = options.shared ?? null;
    this.#onSharedError = options.onSharedError ?? (() => undefined);
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Pauses set by rate-limit headers or 429 responses so far, for metrics and benchmarks. */
  pauses = 0;

  /** Waits until a request may start, then returns the function that marks it finished. */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#tryTake()) break;
      await this.#waitForChange(signal);
    }
    this.#inFlight += 1;
    if (this.#shared !== null) {
      try {
        await this.#shared.take({ perMs: this.#ratePerMs, capacity: this.#capacity }, signal);
      } catch (error) {
        this.#inFlight -= 1;
        this.#wake();
        throw error;
      }
    }
    let isReleased = false;
    return () => {
      if (isReleased) return;
      isReleased = true;
      this.#inFlight -= 1;
      this.#wake();
    };
  }

  /** Applies the rate-limit headers of a response: adopts the advertised limit, pauses when it runs out. */
  observe(headers: RateHeaders, status: number): void {
    if (headers.limit !== null && headers.limit > 0) {
      this.#ratePerMs = (headers.limit * PACING_SHARE) / 60_000;
      this.#capacity = Math.max(1, Math.floor(headers.limit / 60) * BURST_SECONDS);
    }

    if (status === 429) {
      this.#consecutiveRateLimits += 1;
      const waitMs =
        headers.resetSeconds !== null
          ? headers.resetSeconds * 1000
          : Math.min(RATE_LIMITED_MAX_BACKOFF_MS, RATE_LIMITED_FIRST_BACKOFF_MS * 2 ** (this.#consecutiveRateLimits - 1));
      this.pauseFor(withJitter(waitMs));
      return;
    }
    this.#consecutiveRateLimits = 0;

    // Other requests already in flight spend the same remainder, so stop while it still covers them.
    if (headers.remaining !== null && headers.resetSeconds !== null && headers.remaining <= this.#inFlight) {
      this.pauseFor(headers.resetSeconds * 1000);
    }
  }

  /** Stops every request of this token from starting for `ms`. */
  pauseFor(ms: number): void {
    this.pauses += 1;
    this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + ms);
    this.#tokens = 0;
    this.#shared?.pauseFor(ms).catch(this.#onSharedError);
  }

  #tryTake(): boolean {
    const now = Date.now();
    if (now < this.#pausedUntil) return false;
    if (this.#inFlight >= this.#maxInFlight) return false;
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /**
   * Waits for the next wake. Waiters that share a signal share one abort listener, so a run with
   * many requests queued on the budget adds one listener to its signal, not one per request.
   */
  #waitForChange(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = { wake: resolve, abort: reject, signal: signal ?? null };
      this.#waiters.push(waiter);
      if (signal !== undefined) this.#watchAbort(signal);
      this.#schedule();
    });
  }

  #watchAbort(signal: AbortSignal): void {
    if (this.#abortListeners.has(signal)) return;
    const onAbort = () => {
      this.#abortListeners.delete(signal);
      const aborted = this.#waiters.filter((waiter) => waiter.signal === signal);
      this.#waiters.splice(0, this.#waiters.length, ...this.#waiters.filter((waiter) => waiter.signal !== signal));
      for (const waiter of aborted) waiter.abort(signal.reason);
    };
    this.#abortListeners.set(signal, onAbort);
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Wakes every waiter when the next token can exist or the pause ends. */
  #schedule(): void {
    if (this.#timer !== null) return;
    const now = Date.now();
    // A full set of requests in flight wakes the waiters itself when one finishes.
    if (now >= this.#pausedUntil && this.#inFlight >= this.#maxInFlight) return;
    const untilToken = this.#tokens >= 1 ? 0 : (1 - this.#tokens) / this.#ratePerMs;
    const delayMs = Math.max(this.#pausedUntil - now, untilToken, 1);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#wake();
    }, delayMs);
  }

  #wake(): void {
    const waiters = this.#waiters.splice(0);
    for (const [signal, onAbort] of this.#abortListeners) signal.removeEventListener('abort', onAbort);
    this.#abortListeners.clear();
    for (const waiter of waiters) waiter.wake();
  }

}

function withJitter(ms: number): number {
  return ms + Math.random() * Math.min(1000, ms * 0.2);
}

const budgets = new Map<string, RateBudget>();

/**
 * Returns the budget named by `key` (a connection id or a token), created on first use with
 * `options`. PagerDuty counts the limit per token, so every client of a connection in this
 * process shares one. Processes share a budget only through `options.shared`.
 */
export function sharedRateBudget(key: string, options?: RateBudgetOptions): RateBudget {
  const hashedKey = createHash('sha256').update(key).digest('hex');
  let budget = budgets.get(hashedKey);
  if (!budget) {
    budget = new RateBudget(options);
    budgets.set(hashedKey, budget);
  }
  return budget;
}
