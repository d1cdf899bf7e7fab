import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';

/**
 * The position a windowed stream continues from. `pass` describes the pass under way and is null
 * between passes. `highWaterMark` is the end of the last complete pass, where an incremental run
 * starts again, less an overlap.
 */
export const windowCheckpointSchema = z.object({
  highWaterMark: z.iso.datetime().nullable(),
  pass: z
    .object({
      rangeStart: z.iso.datetime(),
      rangeEnd: z.iso.datetime(),
      /** Start of the window being read; windows before it are complete. */
      windowStart: z.iso.datetime(),
      windowSizeMs: z.number().int().positive(),
      /** Offset of the first page of the current window not yet stored. */
      offset: z.number().int().min(0),
      /**
       * A range the pass has already read and skips when its windows reach `from`. A list served
       * newest first is read from the end of a window over the cap, so the window shrinks to its
       * unread start and the records after it are stored before the pass gets there.
       */
      skip: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).optional(),
      /**
       * The order the list serves records in by the time it filters on, once seen; `none` when a
       * window showed that the list is not in time order, so windows are split instead.
       */
      order: z.enum(['ascending', 'descending', 'none']).optional(),
      /**
       * Set while the current window is the unread rest of a window over the cap: that window
       * and the `total` the rest must have if every record before the cap was in time order.
       */
      walk: z
        .object({
          parentStart: z.iso.datetime(),
          parentSizeMs: z.number().int().positive(),
          parentTotal: z.number().int().min(0),
          expectedTotal: z.number().int().min(0),
          parentSkip: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).optional(),
        })
        .optional(),
    })
    .nullable(),
});
export type WindowCheckpoint = z.infer<typeof windowCheckpointSchema>;

/** The checkpoint of a stream that is read in full on every pass: when that pass last completed. */
export const fullPassCheckpointSchema = z.object({
  completedAt: z.iso.datetime().nullable(),
});
export type FullPassCheckpoint = z.infer<typeof fullPassCheckpointSchema>;

/** Reads and writes `stream_checkpoints` rows of one connection. */
export class CheckpointStore {
  constructor(
    private readonly db: Kysely<DB>,
    readonly connectionId: string,
  ) {}

  /** Reads a stream's checkpoint; a missing or unreadable one yields `fallback`, so the stream starts over. */
  async read<S extends z.ZodType>(stream: string, schema: S, fallback: z.infer<S>): Promise<z.infer<S>> {
    const row = await this.db
      .selectFrom('stream_checkpoints')
      .select('checkpoint')
      .where('connection_id', '=', this.connectionId)
      .where('stream', '=', stream)
      .executeTakeFirst();
    if (!row) return fallback;
    const parsed = schema.safeParse(row.checkpoint);
    return parsed.success ? parsed.data : fallback;
  }

  async write(stream: string, checkpoint: Record<string, unknown>): Promise<void> {
    const value = JSON.stringify(checkpoint);
    const now = new Date();
    await this.db
      .insertInto('stream_checkpoints')
      .values({ connection_id: this.connectionId, stream, checkpoint: value, updated_at: now })
      .onConflict((conflict) => conflict.columns(['connection_id', 'stream']).doUpdateSet({ checkpoint: value, updated_at: now }))
      .execute();
  }
}
