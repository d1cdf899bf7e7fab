import type { Kysely } from 'kysely';
import type { DB, StreamStatus } from '../db/schema.ts';

export interface PageProgress {
  records: number;
  /** The records the stream expects in all, when PagerDuty reported a total. */
  expectedRecords?: number | null;
  windowStart?: Date | null;
  windowEnd?: Date | null;
}

/**
 * The `sync_run_streams` row of one stream in one run, written after every page so the
 * Connections card and the terminal can show progress while the run goes on.
 */
export class StreamProgress {
  #pages = 0;
  #records = 0;
  /** Counts an earlier, interrupted attempt of the same run stored up to its last checkpoint. */
  #earlier = { pages: 0, records: 0 };

  constructor(
    private readonly db: Kysely<DB>,
    readonly syncRunId: string,
    readonly stream: string,
  ) {}

  get pages(): number {
    return this.#pages;
  }

  get records(): number {
    return this.#records;
  }

  /**
   * Marks the stream running and returns the status and message an earlier attempt of the same
   * run left, or null on a first attempt. The counts start at zero, because a stream that starts
   * over reads every record again. A stream that resumes a pass calls `continueEarlierAttempt`.
   */
  async start(): Promise<{ status: StreamStatus; message: string | null } | null> {
    const earlier = await this.db
      .selectFrom('sync_run_streams')
      .select(['status', 'message', 'pages', 'records'])
      .where('sync_run_id', '=', this.syncRunId)
      .where('stream', '=', this.stream)
      .executeTakeFirst();
    this.#earlier = { pages: earlier?.pages ?? 0, records: earlier?.records ?? 0 };
    // A stream that succeeded before the interruption is not read again, so its row stays as it is.
    if (earlier?.status === 'succeeded') {
      this.continueEarlierAttempt();
      return { status: earlier.status, message: earlier.message };
    }

    await this.db
      .insertInto('sync_run_streams')
      .values({ sync_run_id: this.syncRunId, stream: this.stream, status: 'running', started_at: new Date() })
      .onConflict((conflict) =>
        conflict.columns(['sync_run_id', 'stream']).doUpdateSet({ status: 'running', message: null, finished_at: null }),
      )
      .execute();
    return earlier === undefined ? null : { status: earlier.status, message: earlier.message };
  }

  /**
   * Adds the earlier attempt's counts, for a stream that continues from the checkpoint that
   * attempt wrote. Each page's checkpoint is written before its progress, so those pages are not
   * read again.
   */
  continueEarlierAttempt(): void {
    this.#pages += this.#earlier.pages;
    this.#records += this.#earlier.records;
    this.#earlier = { pages: 0, records: 0 };
  }

  async page(progress: PageProgress): Promise<void> {
    this.#pages += 1;
    this.#records += progress.records;
    await this.db
      .updateTable('sync_run_streams')
      .set({
        pages: this.#pages,
        records: this.#records,
        ...(progress.expectedRecords === undefined ? {} : { expected_records: progress.expectedRecords }),
        ...(progress.windowStart === undefined ? {} : { window_start: progress.windowStart }),
        ...(progress.windowEnd === undefined ? {} : { window_end: progress.windowEnd }),
      })
      .where('sync_run_id', '=', this.syncRunId)
      .where('stream', '=', this.stream)
      .execute();
  }

  async finish(status: Exclude<StreamStatus, 'pending' | 'running'>, message: string | null = null): Promise<void> {
    await this.db
      .insertInto('sync_run_streams')
      .values({ sync_run_id: this.syncRunId, stream: this.stream, status, message, finished_at: new Date(), pages: this.#pages, records: this.#records })
      .onConflict((conflict) => conflict.columns(['sync_run_id', 'stream']).doUpdateSet({ status, message, finished_at: new Date() }))
      .execute();
  }
}
