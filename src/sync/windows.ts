import type { z } from 'zod';
import type { OffsetPage, PagerDutyClient, Query } from '../connectors/pagerduty/client.ts';
import type { ApiError } from '../connectors/pagerduty/errors.ts';
import { MAX_PAGE_SIZE, OFFSET_CAP } from '../connectors/pagerduty/provider.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { windowCheckpointSchema, type CheckpointStore, type WindowCheckpoint } from './checkpoints.ts';
import type { StreamProgress } from './progress.ts';

const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;
/** Records a window aims at after a split: under the 10,000 cap with room for growth while paging. */
const TARGET_WINDOW_RECORDS = 8_000;
/** A window is never split below this; a burst denser than 10,000 records a second cannot be read whole. */
const MIN_WINDOW_MS = SECOND_MS;
/** Growth of a sparse window's size per step, so one quiet day does not make the next window huge. */
const MAX_GROWTH_FACTOR = 8;
/**
 * Each window's `until` reaches this far past its end, because PagerDuty does not document
 * whether `since` and `until` are inclusive. A record on a boundary may be read twice, which
 * the upsert by id absorbs, but is never skipped.
 */
const BOUNDARY_OVERLAP_MS = SECOND_MS;

export interface WindowedReadOptions<Item extends z.ZodType> {
  client: PagerDutyClient;
  checkpoints: CheckpointStore;
  progress: StreamProgress;
  stream: string;
  path: string;
  key: string;
  item: Item;
  query: Query;
  /** Earliest instant a first pass reads. */
  historyStart: Date;
  /** Latest instant this run reads to. */
  rangeEnd: Date;
  /** An incremental pass starts this long before the high-water mark. */
  overlapMs: number;
  maxWindowMs: number;
  /** Pages of one window fetched at once. */
  pageConcurrency: number;
  store(items: z.infer<Item>[]): Promise<void>;
}

export interface WindowedReadSummary {
  /** The range of the passes this run completed, from the first start to the last end. */
  rangeStart: Date;
  rangeEnd: Date;
  records: number;
}

/**
 * Reads a time-filtered offset list (`since`/`until`) from the checkpoint on: an interrupted pass
 * resumes at its window and offset, then a new pass runs from the high-water mark less the
 * overlap up to `rangeEnd`. A window whose `total` passes the 10,000 cap is split before any page
 * past the cap is requested, so PagerDuty never rejects a request for it.
 */
export async function readWindowed<Item extends z.ZodType>(options: WindowedReadOptions<Item>): Promise<Result<WindowedReadSummary, ApiError>> {
  let checkpoint = await options.checkpoints.read(options.stream, windowCheckpointSchema, { highWaterMark: null, pass: null });
  let records = 0;
  let summaryStart: Date | null = null;

  for (let passes = 0; passes < 2; passes += 1) {
    const pass = checkpoint.pass ?? planPass(checkpoint, options);
    if (pass === null) break;
    summaryStart ??= new Date(pass.rangeStart);
    checkpoint = { highWaterMark: checkpoint.highWaterMark, pass };
    await options.checkpoints.write(options.stream, checkpoint);

    const result = await readPass(options, checkpoint);
    if (!result.ok) return result;
    records += result.value;

    checkpoint = { highWaterMark: pass.rangeEnd, pass: null };
    await options.checkpoints.write(options.stream, checkpoint);
    if (new Date(pass.rangeEnd).getTime() >= options.rangeEnd.getTime()) break;
  }

  const end = checkpoint.highWaterMark === null ? options.rangeEnd : new Date(checkpoint.highWaterMark);
  return ok({ rangeStart: summaryStart ?? end, rangeEnd: end, records });
}

function planPass(checkpoint: WindowCheckpoint, options: WindowedReadOptions<z.ZodType>): NonNullable<WindowCheckpoint['pass']> | null {
  const endMs = floorToSecond(options.rangeEnd.getTime());
  const historyStartMs = floorToSecond(options.historyStart.getTime());
  const startMs =
    checkpoint.highWaterMark === null ? historyStartMs : Math.max(historyStartMs, floorToSecond(new Date(checkpoint.highWaterMark).getTime() - options.overlapMs));
  if (checkpoint.highWaterMark !== null && new Date(checkpoint.highWaterMark).getTime() >= endMs) return null;
  if (startMs >= endMs) return null;
  return {
    rangeStart: new Date(startMs).toISOString(),
    rangeEnd: new Date(endMs).toISOString(),
    windowStart: new Date(startMs).toISOString(),
    windowSizeMs: options.maxWindowMs,
    offset: 0,
  };
}

/** Reads every window of one pass, writing the checkpoint after every stored page. */
async function readPass<Item extends z.ZodType>(options: WindowedReadOptions<Item>, checkpoint: WindowCheckpoint): Promise<Result<number, ApiError>> {
  const pass = checkpoint.pass;
  if (!pass) return ok(0);
  const rangeEndMs = new Date(pass.rangeEnd).getTime();
  let windowStartMs = new Date(pass.windowStart).getTime();
  let windowSizeMs = pass.windowSizeMs;
  let offset = pass.offset;
  let records = 0;

  const saveCheckpoint = async () => {
    await options.checkpoints.write(options.stream, {
      highWaterMark: checkpoint.highWaterMark,
      pass: { ...pass, windowStart: new Date(windowStartMs).toISOString(), windowSizeMs, offset },
    });
  };

  while (windowStartMs < rangeEndMs) {
    const windowEndMs = Math.min(windowStartMs + windowSizeMs, rangeEndMs);
    const query: Query = {
      ...options.query,
      since: new Date(windowStartMs).toISOString(),
      until: new Date(windowEndMs + BOUNDARY_OVERLAP_MS).toISOString(),
    };
    const windowProgress = { windowStart: new Date(windowStartMs), windowEnd: new Date(windowEndMs) };

    // The head page requests `total`, which decides whether the window fits under the cap.
    const head = await options.client.getOffsetPage(options.path, query, options.key, options.item, { offset, total: true });
    if (!head.ok) return head;
    const total = head.value.total;
    if (total !== null && offset === 0 && total > OFFSET_CAP && windowEndMs - windowStartMs > MIN_WINDOW_MS) {
      windowSizeMs = shrunkWindowMs(windowEndMs - windowStartMs, total);
      await saveCheckpoint();
      continue;
    }

    let stored = 0;
    const storePage = async (page: OffsetPage<z.infer<Item>>) => {
      await options.store(page.items);
      stored += page.items.length;
      records += page.items.length;
      offset = page.offset + page.limit;
      await saveCheckpoint();
      await options.progress.page({ records: page.items.length, expectedRecords: total === null ? null : options.progress.records + total - page.offset, ...windowProgress });
    };
    await storePage(head.value);

    const rest = await readRemainingPages(options.client, { path: options.path, query, key: options.key, item: options.item }, head.value, total, options.pageConcurrency, storePage);
    if (!rest.ok) return rest;

    if (total !== null && total > OFFSET_CAP) {
      return err({
        kind: 'offset_cap',
        status: null,
        code: null,
        message: `${total} records fall in the one-second window from ${new Date(windowStartMs).toISOString()}, more than PagerDuty's 10,000 per query; ${stored} were read`,
        request: `GET ${options.path}`,
      });
    }

    windowStartMs = windowEndMs;
    offset = 0;
    windowSizeMs = grownWindowMs(windowSizeMs, total ?? stored, options.maxWindowMs);
    await saveCheckpoint();
  }
  return ok(records);
}

export interface ListRequest<Item extends z.ZodType> {
  path: string;
  query: Query;
  key: string;
  item: Item;
}

/**
 * Reads the pages after a head page. A known total gives every offset, so up to `pageConcurrency`
 * pages are in flight and stored in offset order. Without a total, pages follow `more`.
 */
export async function readRemainingPages<Item extends z.ZodType>(
  client: PagerDutyClient,
  list: ListRequest<Item>,
  head: OffsetPage<z.infer<Item>>,
  total: number | null,
  pageConcurrency: number,
  storePage: (page: OffsetPage<z.infer<Item>>) => Promise<void>,
): Promise<Result<void, ApiError>> {
  const { path, query, key, item } = list;
  let last = head;
  if (total !== null && head.more) {
    const reachable = Math.min(total, OFFSET_CAP);
    const offsets: number[] = [];
    for (let next = head.offset + head.limit; next < reachable; next += MAX_PAGE_SIZE) offsets.push(next);

    const inFlight: Array<Promise<Result<OffsetPage<z.infer<Item>>, ApiError>>> = [];
    let nextIndex = 0;
    const launch = () => {
      const pageOffset = offsets[nextIndex];
      if (pageOffset === undefined) return;
      nextIndex += 1;
      const request = client.getOffsetPage(path, query, key, item, { offset: pageOffset });
      // Marks the promise handled: when an earlier page throws (an abort on shutdown), the loop
      // below stops awaiting, and this request's rejection must not surface as unhandled.
      request.catch(() => undefined);
      inFlight.push(request);
    };
    for (let started = 0; started < pageConcurrency; started += 1) launch();

    while (inFlight.length > 0) {
      const page = await inFlight.shift()!;
      if (!page.ok) {
        // Let the other requests settle so none outlives the stream.
        await Promise.allSettled(inFlight);
        return page;
      }
      launch();
      await storePage(page.value);
      last = page.value;
    }
  }

  // Records added while paging, or a server that reports no total: follow `more` to the end.
  while (last.more && last.items.length > 0 && last.offset + last.limit < OFFSET_CAP) {
    const page = await client.getOffsetPage(path, query, key, item, { offset: last.offset + last.limit });
    if (!page.ok) return page;
    await storePage(page.value);
    last = page.value;
  }
  return ok(undefined);
}

function shrunkWindowMs(windowMs: number, total: number): number {
  const proportional = Math.floor((windowMs * TARGET_WINDOW_RECORDS) / total);
  return Math.max(MIN_WINDOW_MS, floorToSecond(Math.min(proportional, windowMs / 2)) || MIN_WINDOW_MS);
}

function grownWindowMs(windowMs: number, records: number, maxWindowMs: number): number {
  if (records >= TARGET_WINDOW_RECORDS) return windowMs;
  const factor = Math.min(MAX_GROWTH_FACTOR, TARGET_WINDOW_RECORDS / Math.max(records, 1));
  return Math.min(maxWindowMs, Math.max(MIN_WINDOW_MS, floorToSecond(windowMs * factor)));
}

function floorToSecond(ms: number): number {
  return Math.floor(ms / SECOND_MS) * SECOND_MS;
}
