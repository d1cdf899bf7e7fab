import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import type { SharedTokenBucket } from './rate-budget.ts';

/** Maximum wait between two reads of the shared bucket, so a pause lifted early is noticed soon. */
const MAX_POLL_MS = 1_000;

/** Tokens one process takes in one statement at most, for requests already waiting. */
const MAX_TOKENS_PER_TAKE = 16;

const grantRow = z.object({ granted: z.coerce.number() });
const waitRow = z.object({ wait_ms: z.coerce.number() });

/**
 * A token bucket in the `pagerduty_rate_budgets` table of a PostgreSQL database, shared by every
 * process that uses the database. Taking a token is one atomic statement on the bucket's row, and
 * refills and pauses are computed with the database clock. Takes of one process run one at a time,
 * so a process waiting on an empty bucket polls it once per interval, not once per request. A take
 * removes a token for each request of this process already waiting, up to 16, which keeps the
 * statements per request low.
 */
export class PostgresTokenBucket implements SharedTokenBucket {
  #queue: Promise<void> = Promise.resolve();
  /** Tokens this process took for requests that were waiting and has not handed out yet. */
  #reserved = 0;
  #waiting = 0;

  constructor(
    private readonly database: Database,
    private readonly key: string,
  ) {
    if (database.kind !== 'postgres') throw new Error(`A shared rate budget needs PostgreSQL, not ${database.kind}; one process owns an embedded database and paces alone`);
  }

  take(rate: { perMs: number; capacity: number }, signal?: AbortSignal): Promise<void> {
    this.#waiting += 1;
    const turn = this.#queue
      .then(() => this.#takeWhenAvailable(rate, signal))
      .finally(() => {
        this.#waiting -= 1;
      });
    // The next take waits for this one, whether it succeeded or was aborted.
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async pauseFor(ms: number): Promise<void> {
    await this.database.query(
      `insert into pagerduty_rate_budgets as b (budget_key, tokens, refilled_at, paused_until)
       values ($1, 0, clock_timestamp(), clock_timestamp() + make_interval(secs => $2::double precision / 1000))
       on conflict (budget_key) do update set
         tokens = 0,
         refilled_at = clock_timestamp(),
         paused_until = greatest(coalesce(b.paused_until, '-infinity'), excluded.paused_until)`,
      [this.key, ms],
    );
  }

  async #takeWhenAvailable(rate: { perMs: number; capacity: number }, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      if (this.#reserved > 0) {
        this.#reserved -= 1;
        return;
      }
      const granted = await this.#tryTake(rate, Math.min(Math.max(1, this.#waiting), MAX_TOKENS_PER_TAKE));
      if (granted > 0) {
        this.#reserved += granted - 1;
        return;
      }
      await sleep(Math.min(Math.max(1, await this.#waitMs(rate)), MAX_POLL_MS), signal);
    }
  }

  /**
   * Takes up to `wanted` tokens, as many as the refilled bucket has whole, unless a pause is on.
   * Returns how many it took; the statement returns no row when the bucket is empty or paused.
   */
  async #tryTake(rate: { perMs: number; capacity: number }, wanted: number): Promise<number> {
    const available = `least($3::double precision, b.tokens + $2::double precision * 1000 * extract(epoch from clock_timestamp() - b.refilled_at))`;
    const { rows } = await this.database.query(
      `insert into pagerduty_rate_budgets as b (budget_key, tokens, refilled_at, last_grant)
       values ($1, $3::double precision - least($4::integer, floor($3::double precision)), clock_timestamp(), least($4::integer, floor($3::double precision)))
       on conflict (budget_key) do update set
         tokens = ${available} - least($4::integer, floor(${available})),
         last_grant = least($4::integer, floor(${available})),
         refilled_at = clock_timestamp()
       where coalesce(b.paused_until, '-infinity') <= clock_timestamp() and ${available} >= 1
       returning last_grant as granted`,
      [this.key, rate.perMs, rate.capacity, wanted],
    );
    const row = rows[0] === undefined ? null : grantRow.parse(rows[0]);
    return row?.granted ?? 0;
  }

  /** Returns how long until the bucket has a whole token and no pause is on, in milliseconds. */
  async #waitMs(rate: { perMs: number; capacity: number }): Promise<number> {
    const { rows } = await this.database.query(
      `select greatest(
         case when paused_until is null then 0 else 1000 * extract(epoch from paused_until - clock_timestamp()) end,
         (1 - least($3::double precision, tokens + $2::double precision * 1000 * extract(epoch from clock_timestamp() - refilled_at))) / $2::double precision,
         1) as wait_ms
       from pagerduty_rate_budgets where budget_key = $1`,
      [this.key, rate.perMs, rate.capacity],
    );
    const row = rows[0] === undefined ? null : waitRow.parse(rows[0]);
    return row?.wait_ms ?? 1;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
