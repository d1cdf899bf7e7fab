import { firstNotBefore, firstOlderThan, type HistoryStore } from './history.ts';
import type { AgentRef, SimChannel, SimIncident, SimLogEntry, SimService, SimUser } from './model.ts';
import { INCIDENT_TITLES, NOTES } from './names.ts';
import { Random } from './random.ts';

export interface LazyHistoryOptions {
  seed: number;
  now: Date;
  historyDays: number;
  /** Incidents over the whole history, about evenly spread. Each day varies by up to a fifth, so short histories may miss the total by as much. */
  incidents: number;
  /** One day with this many extra incidents, `daysAgo` days before `now`. */
  burst?: { daysAgo: number; incidents: number };
  users: SimUser[];
  /** People removed from the account; they act until a cutoff 31 to 89 days ago. */
  deletedUsers: SimUser[];
  services: SimService[];
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;
/** No person acts within this distance of `now − 30 days` or `now − 90 days`, so no last seen sits on a window edge. */
const WINDOW_EDGE_MARGIN_MS = 6 * HOUR_MS;
/** Generated days kept in memory, each with one day's incidents and entries. */
const CACHED_DAYS = 48;
/** Share of incidents that a person acknowledges; monitoring resolves the rest. */
const HUMAN_RESPONSE_SHARE = 0.7;
/** Notification rules per assignment: each produces a `notify_log_entry`. */
const NOTIFICATIONS_PER_ASSIGNMENT = 4;

interface Responder {
  user: SimUser;
  /** The person does not act after this instant. */
  cutoffMs: number;
  /** The week in four (weekly) or day in fourteen (occasional) on which the person acts. */
  phase: number;
}

interface DayData {
  incidents: SimIncident[];
  /** Per incident of the day, its entries oldest first. */
  entriesByIncident: SimLogEntry[][];
}

/** Mixes a seed and a number into a 32-bit seed (splitmix-style). */
function mix(seed: number, value: number): number {
  let hash = (seed ^ Math.imul(value + 0x9e3779b9, 0x85ebca6b)) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 16), 0x7feb352d) >>> 0;
  hash = Math.imul(hash ^ (hash >>> 15), 0x846ca68b) >>> 0;
  return (hash ^ (hash >>> 16)) >>> 0;
}

function base36(value: number, width: number): string {
  return value.toString(36).toUpperCase().padStart(width, '0');
}

/**
 * A history generated one day at a time, on demand, from the seed and the day's number. Starting
 * costs one count per day; a 10,000,000-entry account holds only its recently read days in memory.
 * Incident ids (`Q…`) and log entry ids (`R…`) encode the incident's position, so lookups by id
 * generate only the day concerned.
 */
export class LazyHistory implements HistoryStore {
  private readonly startMs: number;
  private readonly nowMs: number;
  private readonly days: number;
  /** `incidentPrefix[k]` is the number of incidents before day k. */
  private readonly incidentPrefix: Float64Array;
  private readonly entryCounts: Int32Array;
  private readonly dayCache = new Map<number, DayData>();
  private readonly dayEntriesCache = new Map<number, SimLogEntry[]>();
  private readonly classes: { daily: Responder[]; weekly: Responder[]; occasional: Responder[]; lapsed: Responder[]; dormant: Responder[] };
  private readonly anyResponder: Responder[];

  constructor(private readonly options: LazyHistoryOptions) {
    this.nowMs = options.now.getTime();
    this.days = options.historyDays;
    this.startMs = this.nowMs - this.days * DAY_MS;
    this.incidentPrefix = new Float64Array(this.days + 1);
    this.entryCounts = new Int32Array(this.days).fill(-1);

    const base = options.incidents / this.days;
    const burstDay = options.burst === undefined ? -1 : this.days - 1 - options.burst.daysAgo;
    for (let day = 0; day < this.days; day += 1) {
      const variation = 0.8 + 0.4 * (mix(options.seed, day) / 4_294_967_296);
      const count = Math.round(base * variation) + (day === burstDay ? (options.burst?.incidents ?? 0) : 0);
      this.incidentPrefix[day + 1] = (this.incidentPrefix[day] ?? 0) + count;
    }

    this.classes = { daily: [], weekly: [], occasional: [], lapsed: [], dormant: [] };
    const random = new Random(mix(options.seed, 0x5151));
    const responder = (user: SimUser, cutoffMs: number): Responder => ({ user, cutoffMs, phase: random.integer(0, 13) });
    for (const user of options.users) {
      switch (user.behaviour) {
        case 'daily_responder':
          this.classes.daily.push(responder(user, Infinity));
          break;
        case 'weekly_responder':
          this.classes.weekly.push(responder(user, Infinity));
          break;
        case 'occasional_responder':
          this.classes.occasional.push(responder(user, Infinity));
          break;
        case 'lapsed_responder':
          this.classes.lapsed.push(responder(user, this.nowMs - random.integer(31 * 24, 89 * 24) * HOUR_MS));
          break;
        case 'dormant_responder':
          this.classes.dormant.push(responder(user, this.nowMs - random.integer(91 * 24, Math.max(92, this.days) * 24) * HOUR_MS));
          break;
        case 'never_acts':
        case 'stakeholder':
          break;
        default: {
          const unhandled: never = user.behaviour;
          throw new Error(`LazyHistory: unknown behaviour ${String(unhandled)}`);
        }
      }
    }
    for (const user of options.deletedUsers) this.classes.lapsed.push(responder(user, this.nowMs - random.integer(31 * 24, 89 * 24) * HOUR_MS));
    this.anyResponder = [...this.classes.daily, ...this.classes.weekly, ...this.classes.occasional];
  }

  /** Returns the instant before which each person last acts: the cutoff for lapsed and dormant people, else now. */
  latestActionBounds(): Map<string, number> {
    const bounds = new Map<string, number>();
    for (const list of Object.values(this.classes)) for (const item of list) bounds.set(item.user.id, Math.min(item.cutoffMs, this.nowMs));
    return bounds;
  }

  get totalIncidents(): number {
    return this.incidentPrefix[this.days] ?? 0;
  }

  // Days and positions

  private dayStart(day: number): number {
    return this.startMs + day * DAY_MS;
  }

  private dayOf(instantMs: number): number {
    return Math.floor((instantMs - this.startMs) / DAY_MS);
  }

  private clampRange(sinceMs: number, untilMs: number): { since: number; until: number } {
    return { since: Math.max(sinceMs, this.startMs), until: Math.min(untilMs, this.nowMs + 1) };
  }

  private dayOfIncident(globalIndex: number): number {
    let low = 0;
    let high = this.days - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if ((this.incidentPrefix[middle] ?? 0) <= globalIndex) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  private incidentId(globalIndex: number): string {
    return `Q${base36(globalIndex, 8)}${base36(mix(this.options.seed, globalIndex) % 60_466_176, 5)}`;
  }

  private entryId(globalIndex: number, sequence: number): string {
    return `R${base36(globalIndex, 8)}${base36(sequence, 2)}${base36(mix(this.options.seed ^ 0x77, globalIndex * 64 + sequence) % 46_656, 3)}`;
  }

  private decodeIncidentIndex(id: string): number | undefined {
    if (!/^[QR][0-9A-Z]{13}$/.test(id)) return undefined;
    const index = Number.parseInt(id.slice(1, 9), 36);
    return index < this.totalIncidents ? index : undefined;
  }

  // Generation

  private day(day: number): DayData {
    const cached = this.dayCache.get(day);
    if (cached !== undefined) {
      this.dayCache.delete(day);
      this.dayCache.set(day, cached);
      return cached;
    }
    const data = this.generateDay(day);
    this.dayCache.set(day, data);
    if (this.dayCache.size > CACHED_DAYS) this.dayCache.delete(this.dayCache.keys().next().value as number);
    return data;
  }

  private generateDay(day: number): DayData {
    const random = new Random(mix(this.options.seed, day + 1_000_003));
    const first = this.incidentPrefix[day] ?? 0;
    const count = (this.incidentPrefix[day + 1] ?? 0) - first;
    const dayStart = this.dayStart(day);
    const offsets: number[] = [];
    for (let index = 0; index < count; index += 1) offsets.push(random.integer(0, DAY_MS - 1));
    offsets.sort((a, b) => a - b);

    const incidents: SimIncident[] = [];
    const entriesByIncident: SimLogEntry[][] = [];
    offsets.forEach((offset, index) => {
      const globalIndex = first + index;
      const service = random.pick(this.options.services);
      const incident: SimIncident = {
        id: this.incidentId(globalIndex),
        number: globalIndex + 1,
        title: random.pick(INCIDENT_TITLES).replace('{service}', service.name),
        serviceId: service.id,
        urgency: random.chance(0.8) ? 'high' : 'low',
        createdAt: new Date(Math.floor((dayStart + offset) / 1000) * 1000),
      };
      incidents.push(incident);
      entriesByIncident.push(this.generateEntries(random, incident, service, globalIndex));
    });
    return { incidents, entriesByIncident };
  }

  private isNearWindowEdge(atMs: number): boolean {
    return Math.abs(atMs - (this.nowMs - 30 * DAY_MS)) < WINDOW_EDGE_MARGIN_MS || Math.abs(atMs - (this.nowMs - 90 * DAY_MS)) < WINDOW_EDGE_MARGIN_MS;
  }

  /** Picks the person who acts at `atMs`, or null for no one. Behaviour decides who may act when. */
  private pickResponder(random: Random, atMs: number, lastActionMs: number): Responder | null {
    if (this.isNearWindowEdge(atMs) || this.isNearWindowEdge(lastActionMs)) return null;
    const group = random.weighted([
      ['daily', 60],
      ['weekly', 20],
      ['occasional', 8],
      ['lapsed', 8],
      ['dormant', 4],
    ] as const);
    const members = this.classes[group];
    if (members.length === 0) return null;
    const candidate = random.pick(members);
    if (lastActionMs > candidate.cutoffMs) return null;
    if (group === 'weekly' && Math.floor(atMs / WEEK_MS) % 4 !== candidate.phase % 4) return null;
    if (group === 'occasional' && Math.floor(atMs / DAY_MS) % 14 !== candidate.phase) return null;
    return candidate;
  }

  private generateEntries(random: Random, incident: SimIncident, service: SimService, globalIndex: number): SimLogEntry[] {
    const entries: SimLogEntry[] = [];
    const push = (type: SimLogEntry['type'], atMs: number, agent: AgentRef, channel: SimChannel, extra: Pick<SimLogEntry, 'userId' | 'note' | 'snoozeSeconds'> = {}): void => {
      if (atMs > this.nowMs) return;
      entries.push({ id: this.entryId(globalIndex, entries.length), type, createdAt: new Date(Math.floor(atMs / 1000) * 1000), incidentId: incident.id, serviceId: service.id, agent, channel, ...extra });
    };
    const serviceAgent: AgentRef = { type: 'service_reference', id: service.id };
    const integrationAgent: AgentRef = { type: 'integration_reference', id: service.integrationId };
    const apiChannel: SimChannel = { type: 'api', serviceKey: service.integrationId.toLowerCase(), description: `Alert from ${service.integrationName}` };
    const assign = (userId: string, atMs: number): void => {
      push('assign_log_entry', atMs, serviceAgent, { type: 'auto' }, { userId });
      for (let rule = 0; rule < NOTIFICATIONS_PER_ASSIGNMENT; rule += 1) push('notify_log_entry', atMs + (rule * 2 + 1) * MINUTE_MS / 4, serviceAgent, { type: 'auto' }, { userId });
    };

    const triggeredMs = incident.createdAt.getTime();
    push('trigger_log_entry', triggeredMs, integrationAgent, apiChannel);
    const ackMs = triggeredMs + random.integer(1, 30) * MINUTE_MS;
    const resolveMs = ackMs + random.integer(5, 120) * MINUTE_MS;
    const responder = random.chance(HUMAN_RESPONSE_SHARE) ? this.pickResponder(random, ackMs, resolveMs) : null;
    const primary = responder?.user.id ?? (this.anyResponder.length > 0 ? random.pick(this.anyResponder).user.id : undefined);
    if (primary !== undefined) assign(primary, triggeredMs);

    if (random.chance(0.25) && this.anyResponder.length > 0) {
      push('escalate_log_entry', triggeredMs + 30_000, serviceAgent, { type: 'timeout' }, { userId: primary });
      assign(random.pick(this.anyResponder).user.id, triggeredMs + 31_000);
    }
    if (random.chance(0.2)) push('urgency_change_log_entry', triggeredMs + 45_000, serviceAgent, { type: 'auto' });

    if (responder === null) {
      push('resolve_log_entry', triggeredMs + random.integer(2, 40) * MINUTE_MS, integrationAgent, apiChannel);
    } else {
      const person: AgentRef = { type: 'user_reference', id: responder.user.id };
      const drawn = random.weighted([['website', 55], ['slack', 15], ['sms', 12], ['email', 8]] as const);
      const channel = { type: responder.user.isMobileOnly ? 'sms' : drawn } as SimChannel;
      const userChannel: SimChannel = channel.type === 'email' ? { type: 'email', from: responder.user.email, subject: 'Re: incident notification' } : channel;
      push('acknowledge_log_entry', ackMs, person, userChannel);
      const sideChannel: SimChannel = responder.user.isMobileOnly ? { type: 'sms' } : { type: 'website' };
      if (random.chance(0.2)) push('annotate_log_entry', ackMs + 60_000, person, sideChannel, { note: random.pick(NOTES) });
      if (random.chance(0.05)) push('snooze_log_entry', ackMs + 90_000, person, sideChannel, { snoozeSeconds: 3600 });
      push('resolve_log_entry', resolveMs, person, userChannel);
    }
    entries.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
    return entries;
  }

  /** Entries created in day `day`, newest first: from that day's incidents and the day before's. */
  private dayEntries(day: number): SimLogEntry[] {
    const cached = this.dayEntriesCache.get(day);
    if (cached !== undefined) return cached;

    const from = this.dayStart(day);
    const to = Math.min(from + DAY_MS, this.nowMs + 1);
    const entries: SimLogEntry[] = [];
    for (const source of day > 0 ? [day - 1, day] : [day]) {
      for (const list of this.day(source).entriesByIncident) {
        for (const entry of list) {
          const at = entry.createdAt.getTime();
          if (at >= from && at < to) entries.push(entry);
        }
      }
    }
    entries.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? -1 : 1));

    this.entryCounts[day] = entries.length;
    this.dayEntriesCache.set(day, entries);
    if (this.dayEntriesCache.size > CACHED_DAYS) this.dayEntriesCache.delete(this.dayEntriesCache.keys().next().value as number);
    return entries;
  }

  /** The day's entries inside [since, until), as a slice range of `dayEntries(day)`. */
  private dayEntryRange(day: number, since: number, until: number): { entries: SimLogEntry[] | null; start: number; end: number } {
    const from = this.dayStart(day);
    const isWholeDay = since <= from && until >= Math.min(from + DAY_MS, this.nowMs + 1);
    const knownCount = this.entryCounts[day] ?? -1;
    if (isWholeDay && knownCount >= 0) return { entries: null, start: 0, end: knownCount };
    const entries = this.dayEntries(day);
    const time = (entry: SimLogEntry): number => entry.createdAt.getTime();
    return { entries, start: firstOlderThan(entries, until, time), end: firstOlderThan(entries, since, time) };
  }

  // HistoryStore

  countEntries(sinceMs: number, untilMs: number): number {
    const { since, until } = this.clampRange(sinceMs, untilMs);
    let count = 0;
    for (let day = Math.min(this.dayOf(until - 1), this.days - 1); day >= 0 && this.dayStart(day + 1) > since; day -= 1) {
      const range = this.dayEntryRange(day, since, until);
      count += Math.max(0, range.end - range.start);
    }
    return count;
  }

  entries(sinceMs: number, untilMs: number, offset: number, limit: number): SimLogEntry[] {
    const { since, until } = this.clampRange(sinceMs, untilMs);
    const result: SimLogEntry[] = [];
    let skip = offset;
    for (let day = Math.min(this.dayOf(until - 1), this.days - 1); day >= 0 && this.dayStart(day + 1) > since && result.length < limit; day -= 1) {
      let range = this.dayEntryRange(day, since, until);
      const size = Math.max(0, range.end - range.start);
      if (skip >= size) {
        skip -= size;
        continue;
      }
      if (range.entries === null) range = { ...range, entries: this.dayEntries(day) };
      const entries = range.entries ?? [];
      result.push(...entries.slice(range.start + skip, Math.min(range.end, range.start + skip + (limit - result.length))));
      skip = 0;
    }
    return result;
  }

  scanEntries(sinceMs: number, untilMs: number, visit: (entry: SimLogEntry) => boolean | void): void {
    const { since, until } = this.clampRange(sinceMs, untilMs);
    for (let day = Math.min(this.dayOf(until - 1), this.days - 1); day >= 0 && this.dayStart(day + 1) > since; day -= 1) {
      const entries = this.dayEntries(day);
      const time = (entry: SimLogEntry): number => entry.createdAt.getTime();
      const end = firstOlderThan(entries, since, time);
      for (let index = firstOlderThan(entries, until, time); index < end; index += 1) if (visit(entries[index] as SimLogEntry) === false) return;
    }
  }

  entry(id: string): SimLogEntry | undefined {
    const globalIndex = this.decodeIncidentIndex(id);
    if (globalIndex === undefined || !id.startsWith('R')) return undefined;
    return this.incidentEntries(this.incidentId(globalIndex)).find((entry) => entry.id === id);
  }

  countIncidents(sinceMs: number, untilMs: number): number {
    let count = 0;
    this.forIncidentDays(sinceMs, untilMs, 'oldest_first', (_day, start, end) => {
      count += end - start;
    });
    return count;
  }

  incidents(sinceMs: number, untilMs: number, offset: number, limit: number): SimIncident[] {
    const result: SimIncident[] = [];
    let skip = offset;
    this.forIncidentDays(sinceMs, untilMs, 'oldest_first', (day, start, end) => {
      const size = end - start;
      if (skip >= size) {
        skip -= size;
        return true;
      }
      result.push(...this.day(day).incidents.slice(start + skip, Math.min(end, start + skip + (limit - result.length))));
      skip = 0;
      return result.length < limit;
    });
    return result;
  }

  scanIncidents(sinceMs: number, untilMs: number, order: 'oldest_first' | 'newest_first', visit: (incident: SimIncident) => boolean | void): void {
    this.forIncidentDays(sinceMs, untilMs, order, (day, start, end) => {
      const incidents = this.day(day).incidents;
      if (order === 'oldest_first') {
        for (let index = start; index < end; index += 1) if (visit(incidents[index] as SimIncident) === false) return false;
      } else {
        for (let index = end - 1; index >= start; index -= 1) if (visit(incidents[index] as SimIncident) === false) return false;
      }
      return true;
    });
  }

  /** Visits each day overlapping the window with the index range of its incidents inside it. */
  private forIncidentDays(sinceMs: number, untilMs: number, order: 'oldest_first' | 'newest_first', visit: (day: number, start: number, end: number) => boolean | void): void {
    const { since, until } = this.clampRange(sinceMs, untilMs);
    if (until <= since) return;
    const firstDay = Math.max(0, this.dayOf(since));
    const lastDay = Math.min(this.days - 1, this.dayOf(until - 1));
    const time = (incident: SimIncident): number => incident.createdAt.getTime();
    for (let step = 0; step <= lastDay - firstDay; step += 1) {
      const day = order === 'oldest_first' ? firstDay + step : lastDay - step;
      const from = this.dayStart(day);
      const count = (this.incidentPrefix[day + 1] ?? 0) - (this.incidentPrefix[day] ?? 0);
      let start = 0;
      let end = count;
      if (since > from || until < from + DAY_MS) {
        const incidents = this.day(day).incidents;
        start = firstNotBefore(incidents, since, time);
        end = firstNotBefore(incidents, until, time);
      }
      if (end > start && visit(day, start, end) === false) return;
    }
  }

  incident(id: string): SimIncident | undefined {
    const globalIndex = this.decodeIncidentIndex(id);
    if (globalIndex === undefined || this.incidentId(globalIndex) !== id) return undefined;
    const day = this.dayOfIncident(globalIndex);
    return this.day(day).incidents[globalIndex - (this.incidentPrefix[day] ?? 0)];
  }

  incidentEntries(incidentId: string): SimLogEntry[] {
    const globalIndex = this.decodeIncidentIndex(incidentId);
    if (globalIndex === undefined || this.incidentId(globalIndex) !== incidentId) return [];
    const day = this.dayOfIncident(globalIndex);
    return this.day(day).entriesByIncident[globalIndex - (this.incidentPrefix[day] ?? 0)] ?? [];
  }
}
