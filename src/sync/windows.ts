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
  /** The instant of a record that `since` and `until` filter on, such as `created_at`. */
  timeOf(item: z.infer<Item>): string | null | undefined;
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
  // A pass under way, or one that already reached the end of the range, was read by an earlier attempt.
  if (checkpoint.pass !== null || planPass(checkpoint, options) === null) options.progress.continueEarlierAttempt();
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

type TimeOrder = 'ascending' | 'descending';
interface SkipRange {
  fromMs: number;
  toMs: number;
}
/** The unread rest of a window over the cap, read as its own window, and how to check it. */
interface Walk {
  parentStartMs: number;
  parentSizeMs: number;
  parentTotal: number;
  expectedTotal: number;
  parentSkip: SkipRange | null;
}

/** The position of a pass: the window being read and what is known about the list. */
interface PassPosition {
  windowStartMs: number;
  windowSizeMs: number;
  offset: number;
  skip: SkipRange | null;
  order: TimeOrder | 'none' | null;
  walk: Walk | null;
}

function positionOf(pass: NonNullable<WindowCheckpoint['pass']>): PassPosition {
  const skipOf = (range: { from: string; to: string } | undefined): SkipRange | null => (range === undefined ? null : { fromMs: Date.parse(range.from), toMs: Date.parse(range.to) });
  return {
    windowStartMs: Date.parse(pass.windowStart),
    windowSizeMs: pass.windowSizeMs,
    offset: pass.offset,
    skip: skipOf(pass.skip),
    order: pass.order ?? null,
    walk:
      pass.walk === undefined
        ? null
        : {
            parentStartMs: Date.parse(pass.walk.parentStart),
            parentSizeMs: pass.walk.parentSizeMs,
            parentTotal: pass.walk.parentTotal,
            expectedTotal: pass.walk.expectedTotal,
            parentSkip: skipOf(pass.walk.parentSkip),
          },
  };
}

function passOf(pass: NonNullable<WindowCheckpoint['pass']>, position: PassPosition): NonNullable<WindowCheckpoint['pass']> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const rangeOf = (range: SkipRange) => ({ from: iso(range.fromMs), to: iso(range.toMs) });
  const { walk } = position;
  return {
    rangeStart: pass.rangeStart,
    rangeEnd: pass.rangeEnd,
    windowStart: iso(position.windowStartMs),
    windowSizeMs: position.windowSizeMs,
    offset: position.offset,
    ...(position.skip === null ? {} : { skip: rangeOf(position.skip) }),
    ...(position.order === null ? {} : { order: position.order }),
    ...(walk === null
      ? {}
      : {
          walk: {
            parentStart: iso(walk.parentStartMs),
            parentSizeMs: walk.parentSizeMs,
            parentTotal: walk.parentTotal,
            expectedTotal: walk.expectedTotal,
            ...(walk.parentSkip === null ? {} : { parentSkip: rangeOf(walk.parentSkip) }),
          },
        }),
  };
}

/**
 * Reads every window of one pass, writing the checkpoint after every stored page. A window over
 * the 10,000 cap is read up to the cap. When its records come in time order, the unread rest of
 * the window becomes the next window, so no request is spent on splitting. Otherwise the window
 * is split into windows under the cap.
 */
async function readPass<Item extends z.ZodType>(options: WindowedReadOptions<Item>, checkpoint: WindowCheckpoint): Promise<Result<number, ApiError>> {
  const pass = checkpoint.pass;
  if (!pass) return ok(0);
  const rangeEndMs = new Date(pass.rangeEnd).getTime();
  const position = positionOf(pass);
  let records = 0;

  const saveCheckpoint = async () => {
    await options.checkpoints.write(options.stream, { highWaterMark: checkpoint.highWaterMark, pass: passOf(pass, position) });
  };

  while (position.windowStartMs < rangeEndMs) {
    const windowStartMs = position.windowStartMs;
    const windowEndMs = Math.min(windowStartMs + position.windowSizeMs, rangeEndMs, position.skip?.fromMs ?? Infinity);
    const query: Query = {
      ...options.query,
      since: new Date(windowStartMs).toISOString(),
      until: new Date(windowEndMs + BOUNDARY_OVERLAP_MS).toISOString(),
    };
    const windowProgress = { windowStart: new Date(windowStartMs), windowEnd: new Date(windowEndMs) };
    // A window stopped after its last page below the cap reads that page again to learn where it ended.
    if (position.offset >= OFFSET_CAP) position.offset = OFFSET_CAP - MAX_PAGE_SIZE;
    const startOffset = position.offset;

    // The head page requests `total`, which decides whether the window fits under the cap.
    const head = await options.client.getOffsetPage(options.path, query, options.key, options.item, { offset: startOffset, total: true });
    if (!head.ok) return head;
    const total = head.value.total;

    if (position.walk !== null && startOffset === 0) {
      const walk = position.walk;
      position.walk = null;
      if (total !== null && total < walk.expectedTotal) {
        // Fewer records remain than the read ones left out, so some before the cap were out of order.
        position.order = 'none';
        position.windowStartMs = walk.parentStartMs;
        position.windowSizeMs = shrunkWindowMs(walk.parentSizeMs, walk.parentTotal);
        position.skip = walk.parentSkip;
        await saveCheckpoint();
        continue;
      }
    }

    const isOverCap = total !== null && total > OFFSET_CAP;
    const tracker = new TimeOrderTracker(options.timeOf, position.order === 'none' ? null : position.order);
    tracker.observe(head.value.items);
    if (isOverCap && (position.order === 'none' || !tracker.isOrdered) && startOffset === 0 && windowEndMs - windowStartMs > MIN_WINDOW_MS) {
      splitWindow(position, windowEndMs - windowStartMs, total);
      await saveCheckpoint();
      continue;
    }

    let stored = 0;
    const storePage = async (page: OffsetPage<z.infer<Item>>) => {
      if (page !== head.value) tracker.observe(page.items);
      await options.store(page.items);
      stored += page.items.length;
      records += page.items.length;
      position.offset = page.offset + page.limit;
      if (position.order === null && tracker.order !== null && tracker.isOrdered) position.order = tracker.order;
      await saveCheckpoint();
      await options.progress.page({ records: page.items.length, expectedRecords: total === null ? null : options.progress.records + total - page.offset, ...windowProgress });
    };
    await storePage(head.value);

    const rest = await readRemainingPages(options.client, { path: options.path, query, key: options.key, item: options.item }, head.value, total, options.pageConcurrency, storePage);
    if (!rest.ok) return rest;

    if (isOverCap) {
      const isSkipAdjacent = position.skip === null || position.skip.fromMs === windowEndMs;
      const step = position.order !== 'none' && isSkipAdjacent ? tracker.remainderAfterCap(windowStartMs, windowEndMs, total, startOffset === 0) : null;
      if (step !== null) {
        position.walk = { parentStartMs: windowStartMs, parentSizeMs: windowEndMs - windowStartMs, parentTotal: total, expectedTotal: step.expectedTotal, parentSkip: position.skip };
        if (step.isEndReadAlready) position.skip = { fromMs: step.endMs, toMs: position.skip?.toMs ?? windowEndMs };
        position.windowStartMs = step.startMs;
        position.windowSizeMs = step.endMs - step.startMs;
        position.offset = 0;
        await saveCheckpoint();
        continue;
      }
      if (!tracker.isOrdered && windowEndMs - windowStartMs > MIN_WINDOW_MS) {
        splitWindow(position, windowEndMs - windowStartMs, total);
        await saveCheckpoint();
        continue;
      }
      return err({
        kind: 'offset_cap',
        status: null,
        code: null,
        message: `${total} records fall in the one-second window from ${new Date(windowStartMs).toISOString()}, more than PagerDuty's 10,000 per query; ${stored} were read`,
        request: `GET ${options.path}`,
      });
    }

    position.windowStartMs = windowEndMs;
    if (position.skip !== null && windowEndMs >= position.skip.fromMs) {
      position.windowStartMs = Math.max(windowEndMs, position.skip.toMs);
      position.skip = null;
    }
    position.offset = 0;
    // A list in time order goes past the cap at no cost, so its windows need no sizing.
    const isWalkable = position.order === 'ascending' || position.order === 'descending';
    position.windowSizeMs = isWalkable ? options.maxWindowMs : grownWindowMs(position.windowSizeMs, total ?? stored, options.maxWindowMs);
    await saveCheckpoint();
  }
  return ok(records);
}

/** Shrinks the current window so that its records fit under the cap, to read it from its start. */
function splitWindow(position: PassPosition, windowMs: number, total: number): void {
  position.windowSizeMs = shrunkWindowMs(windowMs, total);
  position.offset = 0;
  position.walk = null;
}

/**
 * Follows the times of a window's records in the order the list serves them. A list sorted by the
 * time it filters on, either way, lets a window over the 10,000 cap go on from the last record
 * read instead of being split and read again.
 * NOTE: PagerDuty does not document the order of `/log_entries` or `/notifications`. The order is
 * learned from the records and checked on each one, and the rest window's `total` must match the
 * records left out; a list out of order falls back to split windows.
 */
class TimeOrderTracker<Item> {
  order: TimeOrder | null;
  isOrdered = true;
  readonly #times: number[] = [];

  constructor(
    private readonly timeOf: (item: Item) => string | null | undefined,
    knownOrder: TimeOrder | null,
  ) {
    this.order = knownOrder;
  }

  observe(items: readonly Item[]): void {
    for (const item of items) {
      const value = this.timeOf(item);
      const ms = value === null || value === undefined ? Number.NaN : Date.parse(value);
      if (Number.isNaN(ms)) {
        this.isOrdered = false;
        continue;
      }
      const lastMs = this.#times.at(-1);
      if (lastMs !== undefined && ms !== lastMs) {
        const step = ms > lastMs ? 'ascending' : 'descending';
        if (this.order === null) this.order = step;
        else if (this.order !== step) this.isOrdered = false;
      }
      this.#times.push(ms);
    }
  }

  /**
   * Returns the part of the window [startMs, endMs] that the records read so far do not cover,
   * with the `total` it must have, or null when the records do not determine it or it would not shrink. Records in
   * the second of the last one read are read again, because only some of them may be under the
   * cap. `hasWholeWindow` is false after a resume, when the records before it are not known.
   */
  remainderAfterCap(
    startMs: number,
    endMs: number,
    total: number,
    hasWholeWindow: boolean,
  ): { startMs: number; endMs: number; isEndReadAlready: boolean; expectedTotal: number } | null {
    const lastMs = this.#times.at(-1);
    if (!this.isOrdered || this.order === null || lastMs === undefined) return null;
    const boundaryMs = floorToSecond(lastMs);
    if (boundaryMs <= startMs || boundaryMs >= endMs) return null;
    // After a resume the records read before it are not known, so the rest is not checked (0).
    const expectedTotal = (isLeftOut: (ms: number) => boolean) => (hasWholeWindow ? total - this.#times.filter(isLeftOut).length : 0);
    switch (this.order) {
      // Oldest first: every record before the last one's second is read, so the window starts there.
      case 'ascending':
        return { startMs: boundaryMs, endMs, isEndReadAlready: false, expectedTotal: expectedTotal((ms) => ms < boundaryMs) };
      // Newest first: every record after the last one's second is read, so the window ends there.
      case 'descending':
        return { startMs, endMs: boundaryMs, isEndReadAlready: true, expectedTotal: expectedTotal((ms) => ms >= boundaryMs + SECOND_MS) };
      default: {
        const unreachable: never = this.order;
        throw new Error(`Unknown record order ${String(unreachable)}`);
      }
    }
  }
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
