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

  async start(): Promise<void> {
    const now = new Date();
    await this.db
      .insertInto('sync_run_streams')
      .values({ sync_run_id: this.syncRunId, stream: this.stream, status: 'running', started_at: now })
      .onConflict((conflict) =>
        conflict.columns(['sync_run_id', 'stream']).doUpdateSet({ status: 'running', message: null, finished_at: null }),
      )
      .execute();
    const row = await this.db
      .selectFrom('sync_run_streams')
      .select(['pages', 'records'])
      .where('sync_run_id', '=', this.syncRunId)
      .where('stream', '=', this.stream)
      .executeTakeFirst();
    // A resumed run continues the counts of the attempt that was interrupted.
    this.#pages = row?.pages ?? 0;
    this.#records = row?.records ?? 0;
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
