/**
 * Reads sync attempts back from the JSON log lines of `seatwise worker` processes, so the scale
 * tests can check overlap and concurrency on what the workers themselves recorded.
 */

export const SYNC_END_MESSAGES = new Set(['Sync finished', 'Sync failed', 'Sync stopped: the connection needs a reconnect']);

export interface RunInterval {
  worker: string;
  connectionId: string;
  syncRunId: string;
  startMs: number;
  /** When the run ended or, for a killed worker, when it was killed; infinite while it runs. */
  endMs: number;
  hasEnded: boolean;
}

export function requireAdminUrl(): string {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    throw new Error('The scale tests need PostgreSQL: set TEST_DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/test');
  }
  return url;
}

/**
 * Whether the PostgreSQL scale tests run: when TEST_DATABASE_URL names a server, and in CI,
 * where a missing URL fails the suite instead of skipping it.
 */
export const shouldRunOnPostgres = Boolean(process.env.TEST_DATABASE_URL) || Boolean(process.env.CI);

export function timeOf(entry: Record<string, unknown>): number {
  const time = entry.time;
  if (typeof time === 'number') return time;
  if (typeof time === 'string') return Date.parse(time);
  throw new Error(`Log line without a time: ${JSON.stringify(entry)}`);
}

/** Reads each sync attempt of a worker from its log: "Sync started" to the run's end line. */
export function runIntervals(worker: string, logs: Array<Record<string, unknown>>, killedAtMs: number | null): RunInterval[] {
  const open = new Map<string, RunInterval>();
  const intervals: RunInterval[] = [];
  for (const entry of logs) {
    const syncRunId = entry.syncRunId;
    const connectionId = entry.connectionId;
    if (typeof syncRunId !== 'string' || typeof connectionId !== 'string' || entry.stream !== undefined) continue;
    if (entry.msg === 'Sync started') {
      const interval: RunInterval = { worker, connectionId, syncRunId, startMs: timeOf(entry), endMs: Number.POSITIVE_INFINITY, hasEnded: false };
      open.set(syncRunId, interval);
      intervals.push(interval);
    } else if (SYNC_END_MESSAGES.has(String(entry.msg))) {
      const interval = open.get(syncRunId);
      if (!interval) continue;
      interval.endMs = timeOf(entry);
      interval.hasEnded = true;
      open.delete(syncRunId);
    }
  }
  for (const interval of open.values()) {
    if (killedAtMs !== null) interval.endMs = killedAtMs;
  }
  return intervals;
}

/** Pairs of attempts on one connection whose times overlap, from any workers. */
export function overlappingRuns(intervals: RunInterval[]): Array<[RunInterval, RunInterval]> {
  const byConnection = new Map<string, RunInterval[]>();
  for (const interval of intervals) byConnection.set(interval.connectionId, [...(byConnection.get(interval.connectionId) ?? []), interval]);
  const overlaps: Array<[RunInterval, RunInterval]> = [];
  for (const attempts of byConnection.values()) {
    const ordered = [...attempts].sort((left, right) => left.startMs - right.startMs);
    for (let index = 1; index < ordered.length; index += 1) {
      const previous = ordered[index - 1]!;
      const current = ordered[index]!;
      if (current.startMs < previous.endMs) overlaps.push([previous, current]);
    }
  }
  return overlaps;
}

/** Computes the largest number of one worker's attempts running at the same instant. */
export function maxConcurrentRuns(intervals: RunInterval[]): number {
  const events = intervals.flatMap((interval) => [
    { atMs: interval.startMs, delta: 1 },
    { atMs: interval.endMs, delta: -1 },
  ]);
  // At equal times an end comes first: a slot freed and refilled in one millisecond is not two runs.
  events.sort((left, right) => left.atMs - right.atMs || left.delta - right.delta);
  let running = 0;
  let max = 0;
  for (const event of events) {
    running += event.delta;
    max = Math.max(max, running);
  }
  return max;
}

export async function waitFor<T>(description: string, timeoutMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${description}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
