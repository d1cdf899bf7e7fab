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
