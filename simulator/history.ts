import type { SimIncident, SimLogEntry } from './model.ts';

/**
 * Incidents and log entries of an account, read by time window. Small accounts keep them in arrays;
 * large ones generate each day on demand (see lazy-history.ts).
 */
export interface HistoryStore {
  /** Counts log entries created in [sinceMs, untilMs). */
  countEntries(sinceMs: number, untilMs: number): number;
  /** Returns log entries created in [sinceMs, untilMs), newest first, from position `offset`. */
  entries(sinceMs: number, untilMs: number, offset: number, limit: number): SimLogEntry[];
  /** Visits log entries in [sinceMs, untilMs), newest first, until `visit` returns false. */
  scanEntries(sinceMs: number, untilMs: number, visit: (entry: SimLogEntry) => boolean | void): void;
  entry(id: string): SimLogEntry | undefined;
  /** Counts incidents created in [sinceMs, untilMs). */
  countIncidents(sinceMs: number, untilMs: number): number;
  /** Returns incidents created in [sinceMs, untilMs), oldest first, from position `offset`. */
  incidents(sinceMs: number, untilMs: number, offset: number, limit: number): SimIncident[];
  /** Visits incidents in [sinceMs, untilMs) in the given order until `visit` returns false. */
  scanIncidents(sinceMs: number, untilMs: number, order: 'oldest_first' | 'newest_first', visit: (incident: SimIncident) => boolean | void): void;
  incident(id: string): SimIncident | undefined;
  /** Returns the incident's log entries, oldest first. */
  incidentEntries(incidentId: string): SimLogEntry[];
}

/** Index of the first item (sorted newest first by `timeOf`) older than `instantMs`. */
export function firstOlderThan<T>(items: readonly T[], instantMs: number, timeOf: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timeOf(items[middle] as T) >= instantMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the first item (sorted oldest first by `timeOf`) at or after `instantMs`. */
export function firstNotBefore<T>(items: readonly T[], instantMs: number, timeOf: (item: T) => number): number {
  let low = 0;
  let high = items.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (timeOf(items[middle] as T) < instantMs) low = middle + 1;
    else high = middle;
  }
  return low;
}

const entryTime = (entry: SimLogEntry): number => entry.createdAt.getTime();
const incidentTime = (incident: SimIncident): number => incident.createdAt.getTime();

/** A history held in memory: entries newest first, incidents oldest first. */
export class ArrayHistory implements HistoryStore {
  private readonly entriesById = new Map<string, SimLogEntry>();
  private readonly incidentsById = new Map<string, SimIncident>();
  private readonly entriesByIncident = new Map<string, SimLogEntry[]>();

  constructor(
    readonly allEntries: readonly SimLogEntry[],
    readonly allIncidents: readonly SimIncident[],
  ) {
    for (const incident of allIncidents) this.incidentsById.set(incident.id, incident);
    for (let index = allEntries.length - 1; index >= 0; index -= 1) {
      const entry = allEntries[index] as SimLogEntry;
      this.entriesById.set(entry.id, entry);
      const list = this.entriesByIncident.get(entry.incidentId);
      if (list === undefined) this.entriesByIncident.set(entry.incidentId, [entry]);
      else list.push(entry);
    }
  }

  private entryRange(sinceMs: number, untilMs: number): [number, number] {
    const start = firstOlderThan(this.allEntries, untilMs, entryTime);
    const end = firstOlderThan(this.allEntries, sinceMs, entryTime);
    return [start, Math.max(start, end)];
  }

  countEntries(sinceMs: number, untilMs: number): number {
    const [start, end] = this.entryRange(sinceMs, untilMs);
    return end - start;
  }

  entries(sinceMs: number, untilMs: number, offset: number, limit: number): SimLogEntry[] {
    const [start, end] = this.entryRange(sinceMs, untilMs);
    return this.allEntries.slice(Math.min(end, start + offset), Math.min(end, start + offset + limit));
  }

  scanEntries(sinceMs: number, untilMs: number, visit: (entry: SimLogEntry) => boolean | void): void {
    const [start, end] = this.entryRange(sinceMs, untilMs);
    for (let index = start; index < end; index += 1) if (visit(this.allEntries[index] as SimLogEntry) === false) return;
  }

  entry(id: string): SimLogEntry | undefined {
    return this.entriesById.get(id);
  }

  private incidentRange(sinceMs: number, untilMs: number): [number, number] {
    const start = firstNotBefore(this.allIncidents, sinceMs, incidentTime);
    const end = firstNotBefore(this.allIncidents, untilMs, incidentTime);
    return [start, Math.max(start, end)];
  }

  countIncidents(sinceMs: number, untilMs: number): number {
    const [start, end] = this.incidentRange(sinceMs, untilMs);
    return end - start;
  }

  incidents(sinceMs: number, untilMs: number, offset: number, limit: number): SimIncident[] {
    const [start, end] = this.incidentRange(sinceMs, untilMs);
    return this.allIncidents.slice(Math.min(end, start + offset), Math.min(end, start + offset + limit));
  }

  scanIncidents(sinceMs: number, untilMs: number, order: 'oldest_first' | 'newest_first', visit: (incident: SimIncident) => boolean | void): void {
    const [start, end] = this.incidentRange(sinceMs, untilMs);
    if (order === 'oldest_first') {
      for (let index = start; index < end; index += 1) if (visit(this.allIncidents[index] as SimIncident) === false) return;
    } else {
      for (let index = end - 1; index >= start; index -= 1) if (visit(this.allIncidents[index] as SimIncident) === false) return;
    }
  }

  incident(id: string): SimIncident | undefined {
    return this.incidentsById.get(id);
  }

  incidentEntries(incidentId: string): SimLogEntry[] {
    return this.entriesByIncident.get(incidentId) ?? [];
  }
}
