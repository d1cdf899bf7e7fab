import { z } from 'zod';
import type { OffsetPage } from '../connectors/pagerduty/client.ts';
import type { ApiError } from '../connectors/pagerduty/errors.ts';
import { err, ok, type Result } from '../lib/result.ts';
import type { StreamContext } from './streams/types.ts';
import { readRemainingPages, type ListRequest } from './windows.ts';

/** A full pass in progress: when it began and the first offset not yet stored. */
const fullListCheckpointSchema = z.object({
  completedAt: z.iso.datetime().nullable(),
  pass: z.object({ startedAt: z.iso.datetime(), offset: z.number().int().min(0) }).nullable(),
});
export type FullListCheckpoint = z.infer<typeof fullListCheckpointSchema>;

export interface FullListOptions<Item extends z.ZodType> extends ListRequest<Item> {
  /** Re-read the list only when the last complete pass is older than this, in an incremental run. */
  refreshIntervalMs: number;
  store(items: z.infer<Item>[]): Promise<void>;
  /** Runs after a complete pass, with its start; rows not written since then are gone from PagerDuty. */
  afterCompletePass?(passStartedAt: Date): Promise<void>;
}

export type FullListOutcome = { status: 'read'; records: number } | { status: 'not_due'; completedAt: Date };

/**
 * Reads an offset list with no updated-since filter from start to end, resuming an interrupted
 * pass at its offset. Deletions are applied only after a complete pass, by `afterCompletePass`.
 */
export async function readFullList<Item extends z.ZodType>(
  context: StreamContext,
  stream: string,
  options: FullListOptions<Item>,
): Promise<Result<FullListOutcome, ApiError>> {
  const checkpoint = await context.checkpoints.read(stream, fullListCheckpointSchema, { completedAt: null, pass: null });
  if (checkpoint.pass === null && checkpoint.completedAt !== null && context.kind === 'incremental') {
    const completedAt = new Date(checkpoint.completedAt);
    if (context.now.getTime() - completedAt.getTime() < options.refreshIntervalMs) return ok({ status: 'not_due', completedAt });
  }

  if (checkpoint.pass !== null) context.progress.continueEarlierAttempt();
  const pass = checkpoint.pass ?? { startedAt: context.now.toISOString(), offset: 0 };
  let offset = pass.offset;
  let records = 0;
  const write = () => context.checkpoints.write(stream, { completedAt: checkpoint.completedAt, pass: { startedAt: pass.startedAt, offset } });
  await write();

  const head = await context.client.getOffsetPage(options.path, options.query, options.key, options.item, { offset, total: true });
  if (!head.ok) return head;
  const storePage = async (page: OffsetPage<z.infer<Item>>) => {
    await options.store(page.items);
    records += page.items.length;
    offset = page.offset + page.limit;
    await write();
    await context.progress.page({ records: page.items.length, expectedRecords: head.value.total });
  };
  await storePage(head.value);

  const rest = await readRemainingPages(context.client, options, head.value, head.value.total, context.pageConcurrency, storePage);
  if (!rest.ok) return rest;
  if (head.value.total !== null && head.value.total > records + pass.offset && records + pass.offset >= 10_000) {
    return err({
      kind: 'offset_cap',
      status: null,
      code: null,
      message: `${options.path} lists ${head.value.total} records and PagerDuty serves at most 10,000 of one query; ${records + pass.offset} were read`,
      request: `GET ${options.path}`,
    });
  }

  await options.afterCompletePass?.(new Date(pass.startedAt));
  await context.checkpoints.write(stream, { completedAt: context.now.toISOString(), pass: null });
  return ok({ status: 'read', records });
}
