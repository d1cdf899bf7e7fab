/**
 * Expected crunch results per person for a synced account: feature use, coverage and
 * recommendations with their guardrails. They are computed from the simulator's own model (users,
 * log entries, schedules, policies, incidents, subscriptions), never from Seatwise's tables, and
 * follows the rules of docs/architecture.md and the recommendation rules they describe.
 *
 * The caller names which records show which feature (`FeatureSignals`), because the feature
 * catalogue belongs to the product under test and not to PagerDuty.
 */
import { AccountIndex } from './account-index.ts';
import { incidentSubscribers } from './incident-subscribers.ts';
import type { SimAccount, SimIncident, SimUser } from './model.ts';
import { onCallEntries, type OnCallEntry } from './oncall.ts';
import { notificationTypeFor } from './routes/incidents.ts';

const DAY_MS = 86_400_000;
/** A sync reads on-call shifts in windows of this length, from the history start to 90 days ahead. */
const ONCALL_WINDOW_MS = 30 * DAY_MS;
const ONCALL_AHEAD_MS = 90 * DAY_MS;
const COUNT_WINDOWS_DAYS = [30, 60, 90] as const;

/** Feature keys that each kind of record shows. A key may appear under several kinds. */
export interface FeatureSignals {
  logEntryTypes: Record<string, string[]>;
  logEntryChannels: Record<string, string[]>;
  notificationTypes: Record<string, string[]>;
  delegationTypes: Record<string, string[]>;
  oncallShift: string[];
  scheduleOverride: string[];
  signIn: string[];
  auditRecord: string[];
  subscription: string[];
  /** Features that count the escalation policies a person is on, directly or through a schedule. */
  escalationPolicyMember: string[];
  /** The features whose use is activity of the person, by what the recommendation rules count it as. */
  activity: Record<string, 'responder' | 'on_call' | 'configuration' | 'other'>;
}

/** The bound on the incidents a sync reads the subscribers of, which belongs to the product under test. */
export interface IncidentSubscriberReads {
  /** Incidents open at `asOf`, or whose last status change is at most this many days before it. */
  recentDays: number;
  /** Of those, at most this many, latest status change first and then highest id. */
  maxIncidents: number;
}

export interface UsageTruthOptions {
  asOf: Date;
  /** The history a sync read: records from `asOf` minus this many days. */
  historyDays: number;
  signals: FeatureSignals;
  incidentSubscriberReads: IncidentSubscriberReads;
  /** Days without activity before a seat counts as unused. */
  unusedDays: 30 | 60 | 90;
  /** Lower-case emails never to recommend. */
  exemptEmails: string[];
  /** Monthly price per seat in minor units by license name; null without a contract. */
  monthlyPrices: Record<string, number> | null;
}

export interface FeatureUseTruth {
  personId: string;
  featureKey: string;
  firstUsedAt: string;
  lastUsedAt: string;
  count30d: number;
  count60d: number;
  count90d: number;
}

export interface CoverageTruth {
  personId: string;
  escalationPolicyIds: string[];
  scheduleIds: string[];
  upcomingShiftCount: number;
  isPermanentOnCall: boolean;
  openIncidentCount: number;
  /** Levels as `policyId#levelIndex` (0-based) that would have no target left without the person. */
  strandedLevels: string[];
  strandedSchedules: string[];
}

export type RecommendationKindTruth = 'reclaim_seat' | 'downgrade_to_stakeholder' | 'remove_invitation';

export interface RecommendationTruth {
  kind: RecommendationKindTruth;
  personId: string;
  status: 'ready' | 'flagged' | 'blocked';
  yearlySavingMinor: number | null;
  effectiveDate: string;
  /** Guardrail codes, sorted, one per blocked level or schedule. */
  guardrails: string[];
}

export interface UsageTruth {
  features: FeatureUseTruth[];
  coverage: CoverageTruth[];
  recommendations: RecommendationTruth[];
  /** Each on-call shift a sync stores: policy, level, schedule, person, start and end in ms. */
  shifts: OnCallEntry[];
}

interface Event {
  personId: string;
  featureKey: string;
  atMs: number;
}

/** Computes feature use, coverage and recommendations for the account at `options.asOf`. */
export function computeUsageTruth(account: SimAccount, options: UsageTruthOptions): UsageTruth {
  const asOfMs = options.asOf.getTime();
  const shifts = syncedShifts(account, asOfMs - options.historyDays * DAY_MS, asOfMs);
  const features = summarizeFeatures(collectEvents(account, options, shifts), account, options);
  const coverage = account.users.map((user) => coverageOf(account, user, shifts, asOfMs));
  const recommendations = recommend(account, options, features, coverage);
  return { features, coverage, recommendations, shifts };
}

/** Lists the on-call entries a sync stores: every 30-day window from the history start to 90 days ahead, one row per distinct shift. */
function syncedShifts(account: SimAccount, historyStartMs: number, asOfMs: number): OnCallEntry[] {
  const byKey = new Map<string, OnCallEntry>();
  const endMs = asOfMs + ONCALL_AHEAD_MS;
  for (let startMs = historyStartMs; startMs < endMs; startMs += ONCALL_WINDOW_MS) {
    for (const entry of onCallEntries(account, startMs, Math.min(startMs + ONCALL_WINDOW_MS, endMs))) {
      byKey.set([entry.escalationPolicyId, entry.escalationLevel, entry.scheduleId ?? '', entry.userId, entry.startMs ?? 'permanent'].join('|'), entry);
    }
  }
  return [...byKey.values()];
}

/** Gathers every per-person feature event the synced records show, up to `asOf`. */
function collectEvents(account: SimAccount, options: UsageTruthOptions, shifts: OnCallEntry[]): Event[] {
  const { signals } = options;
  const asOfMs = options.asOf.getTime();
  const historyStartMs = asOfMs - options.historyDays * DAY_MS;
  const index = new AccountIndex(account);
  const events: Event[] = [];
  const add = (personId: string, featureKeys: readonly string[] | undefined, atMs: number) => {
    if (atMs > asOfMs) return;
    for (const featureKey of featureKeys ?? []) events.push({ personId, featureKey, atMs });
  };

  // Log entries and notifications are read in windows ending at `asOf`, exclusive.
  account.history.scanEntries(historyStartMs, asOfMs, (entry) => {
    const atMs = entry.createdAt.getTime();
    if (entry.agent.type === 'user_reference') {
      add(entry.agent.id, signals.logEntryTypes[entry.type], atMs);
      add(entry.agent.id, signals.logEntryChannels[entry.channel.type], atMs);
    }
    if (entry.type === 'notify_log_entry' && entry.userId !== undefined) {
      add(entry.userId, signals.notificationTypes[notificationTypeFor(index.anyUser(entry.userId))], atMs);
    }
  });

  for (const shift of shifts) {
    if (shift.startMs !== null) add(shift.userId, signals.oncallShift, shift.startMs);
  }
  const overridesUntilMs = asOfMs + ONCALL_AHEAD_MS;
  for (const schedule of account.schedules) {
    for (const override of schedule.overrides) {
      if (override.end.getTime() > historyStartMs && override.start.getTime() < overridesUntilMs) add(override.userId, signals.scheduleOverride, override.start.getTime());
    }
  }

  for (const user of account.users) {
    for (const session of user.sessions) add(user.id, signals.delegationTypes[session.type], session.createdAt.getTime());
    if (user.lastSignInAt !== null) add(user.id, signals.signIn, user.lastSignInAt.getTime());
  }
  for (const record of account.auditRecords) {
    const atMs = record.executionTime.getTime();
    if (atMs >= historyStartMs && atMs < asOfMs) add(record.actorUserId, signals.auditRecord, atMs);
  }
  return events;
}

/**
 * Summarizes events per person and feature, and adds the subscriptions, held directly or through a
 * team, and the escalation policy memberships that a single sync at `asOf` reads. That sync is the
 * first and the latest to read each, so each counts in every window, and its first and last use are `asOf`.
 */
function summarizeFeatures(events: Event[], account: SimAccount, options: UsageTruthOptions): FeatureUseTruth[] {
  const asOfMs = options.asOf.getTime();
  const byKey = new Map<string, { personId: string; featureKey: string; first: number; last: number; counts: number[] }>();
  const touch = (personId: string, featureKey: string, atMs: number, weight: number[]) => {
    const key = `${personId}/${featureKey}`;
    const summary = byKey.get(key) ?? { personId, featureKey, first: atMs, last: atMs, counts: [0, 0, 0] };
    summary.first = Math.min(summary.first, atMs);
    summary.last = Math.max(summary.last, atMs);
    summary.counts = summary.counts.map((count, position) => count + (weight[position] ?? 0));
    byKey.set(key, summary);
  };

  for (const event of events) {
    touch(event.personId, event.featureKey, event.atMs, COUNT_WINDOWS_DAYS.map((days) => (event.atMs >= asOfMs - days * DAY_MS ? 1 : 0)));
  }
  for (const [personId, subscribables] of subscribedObjects(account, options)) {
    const count = subscribables.size;
    for (const featureKey of options.signals.subscription) touch(personId, featureKey, asOfMs, [count, count, count]);
  }
  for (const [personId, policyIds] of policiesByMember(account)) {
    const count = policyIds.size;
    for (const featureKey of options.signals.escalationPolicyMember) touch(personId, featureKey, asOfMs, [count, count, count]);
  }

  return [...byKey.values()].map((summary) => ({
    personId: summary.personId,
    featureKey: summary.featureKey,
    firstUsedAt: new Date(summary.first).toISOString(),
    lastUsedAt: new Date(summary.last).toISOString(),
    count30d: summary.counts[0] ?? 0,
    count60d: summary.counts[1] ?? 0,
    count90d: summary.counts[2] ?? 0,
  }));
}

/**
 * Lists the business services and incidents whose status updates reach each person, as
 * `business_service:ID` and `incident:ID`: those the person subscribed to, and those a team of the
 * person subscribed to, or with `isDirectOnly` only the former. An object reached both ways counts
 * once. Incidents are those a sync at `asOf` reads the subscribers of (`listIncidentsReadForSubscribers`).
 */
function subscribedObjects(account: SimAccount, options: UsageTruthOptions, isDirectOnly = false): Map<string, Set<string>> {
  const byPerson = new Map<string, Set<string>>();
  const reach = (subscriber: { subscriberType: 'user' | 'team'; subscriberId: string }, subscribable: string) => {
    if (isDirectOnly && subscriber.subscriberType === 'team') return;
    const personIds = subscriber.subscriberType === 'user' ? [subscriber.subscriberId] : account.users.filter((user) => user.teamIds.includes(subscriber.subscriberId)).map((user) => user.id);
    for (const personId of personIds) byPerson.set(personId, (byPerson.get(personId) ?? new Set()).add(subscribable));
  };
  for (const subscriber of account.inventory.businessServiceSubscribers) reach(subscriber, `business_service:${subscriber.businessServiceId}`);
  for (const incident of listIncidentsReadForSubscribers(account, options)) {
    for (const subscriber of incidentSubscribers(account, incident)) reach(subscriber, `incident:${incident.id}`);
  }
  return byPerson;
}

/**
 * Lists the escalation policies each person is on: as a user target of a rule, or as a member of
 * the layer of a schedule that a rule targets. A policy reached several ways counts once.
 */
function policiesByMember(account: SimAccount): Map<string, Set<string>> {
  const byPerson = new Map<string, Set<string>>();
  for (const policy of account.escalationPolicies) {
    for (const rule of policy.rules) {
      for (const target of rule.targets) {
        const memberIds = target.type === 'user_reference' ? [target.id] : (account.schedules.find((schedule) => schedule.id === target.id)?.layer.userIds ?? []);
        for (const personId of memberIds) byPerson.set(personId, (byPerson.get(personId) ?? new Set()).add(policy.id));
      }
    }
  }
  return byPerson;
}

/**
 * Lists the incidents whose subscribers a sync at `asOf` reads: of the incidents created in the
 * synced history, those open at `asOf` or whose last status change, in whole seconds as served, is
 * at most `recentDays` before it. It keeps the first `maxIncidents` by latest change, then highest id.
 */
export function listIncidentsReadForSubscribers(account: SimAccount, options: Pick<UsageTruthOptions, 'asOf' | 'historyDays' | 'incidentSubscriberReads'>): SimIncident[] {
  const asOfMs = options.asOf.getTime();
  const recentSinceMs = asOfMs - options.incidentSubscriberReads.recentDays * DAY_MS;
  const index = new AccountIndex(account);
  const candidates: { incident: SimIncident; changedAtMs: number }[] = [];
  account.history.scanIncidents(asOfMs - options.historyDays * DAY_MS, asOfMs, 'oldest_first', (incident) => {
    const state = index.incidentState(incident.id);
    if (state === undefined) return;
    const changedAtMs = Math.floor(state.lastStatusChangeAt.getTime() / 1000) * 1000;
    if (state.status !== 'resolved' || changedAtMs >= recentSinceMs) candidates.push({ incident, changedAtMs });
  });
  candidates.sort((left, right) => right.changedAtMs - left.changedAtMs || compareCodeUnits(right.incident.id, left.incident.id));
  return candidates.slice(0, options.incidentSubscriberReads.maxIncidents).map((candidate) => candidate.incident);
}

function compareCodeUnits(left: string, right: string): number {
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

/** Computes what removing `user` would leave uncovered, from the policies, schedules, shifts and incidents. */
function coverageOf(account: SimAccount, user: SimUser, shifts: OnCallEntry[], asOfMs: number): CoverageTruth {
  const liveUserIds = new Set(account.users.map((candidate) => candidate.id));
  const membersOf = (scheduleId: string): string[] => {
    const schedule = account.schedules.find((candidate) => candidate.id === scheduleId);
    return [...new Set(schedule?.layer.userIds ?? [])];
  };
  const soleMemberOf = (scheduleId: string): string | null => {
    const members = membersOf(scheduleId).filter((id) => liveUserIds.has(id));
    return members.length === 1 ? (members[0] ?? null) : null;
  };

  const scheduleIds = account.schedules.filter((schedule) => schedule.layer.userIds.includes(user.id)).map((schedule) => schedule.id);
  const escalationPolicyIds = account.escalationPolicies
    .filter((policy) => policy.rules.some((rule) => rule.targets.some((target) => (target.type === 'user_reference' ? target.id === user.id : membersOf(target.id).includes(user.id)))))
    .map((policy) => policy.id);

  const strandedLevels: string[] = [];
  for (const policy of account.escalationPolicies) {
    policy.rules.forEach((rule, levelIndex) => {
      const soleUsers = rule.targets.map((target) => (target.type === 'user_reference' ? target.id : soleMemberOf(target.id)));
      if (soleUsers.length > 0 && soleUsers.every((id) => id === user.id)) strandedLevels.push(`${policy.id}#${levelIndex}`);
    });
  }
  const strandedSchedules = account.schedules.filter((schedule) => soleMemberOf(schedule.id) === user.id).map((schedule) => schedule.id);

  const ownShifts = shifts.filter((shift) => shift.userId === user.id);
  const horizonMs = asOfMs + ONCALL_AHEAD_MS;
  return {
    personId: user.id,
    escalationPolicyIds: escalationPolicyIds.sort(),
    scheduleIds: scheduleIds.sort(),
    upcomingShiftCount: ownShifts.filter((shift) => shift.startMs !== null && shift.startMs < horizonMs && (shift.endMs === null || shift.endMs > asOfMs)).length,
    isPermanentOnCall: ownShifts.some((shift) => shift.startMs === null && shift.endMs === null),
    openIncidentCount: openIncidentsOf(account, user.id, asOfMs),
    strandedLevels: strandedLevels.sort(),
    strandedSchedules: strandedSchedules.sort(),
  };
}

/** Counts incidents not resolved at `asOf` whose current assignees include the person. */
function openIncidentsOf(account: SimAccount, userId: string, asOfMs: number): number {
  const index = new AccountIndex(account);
  let count = 0;
  account.history.scanIncidents(-Infinity, asOfMs + 1, 'oldest_first', (incident) => {
    const state = index.incidentState(incident.id);
    if (state !== undefined && state.status !== 'resolved' && state.assignments.some((assignment) => assignment.userId === userId)) count += 1;
  });
  return count;
}

/** Applies the recommendation rules and guardrails to every current person with a license. */
function recommend(account: SimAccount, options: UsageTruthOptions, features: FeatureUseTruth[], coverage: CoverageTruth[]): RecommendationTruth[] {
  const asOfMs = options.asOf.getTime();
  const unusedSinceMs = asOfMs - options.unusedDays * DAY_MS;
  const windowPosition = COUNT_WINDOWS_DAYS.indexOf(options.unusedDays);
  const countIn = (use: FeatureUseTruth): number => [use.count30d, use.count60d, use.count90d][windowPosition] ?? 0;
  const admins = account.users.filter((user) => user.role === 'admin').length;
  const stakeholderLicenses = account.licenses.filter((license) => license.roleGroup === 'Stakeholder');
  const stakeholderSeatsFree = stakeholderLicenses.some((license) => license.allocationsAvailable === null)
    ? null
    : stakeholderLicenses.reduce((sum, license) => sum + (license.allocationsAvailable ?? 0), 0);
  const actedInHistory = new Set<string>();
  account.history.scanEntries(asOfMs - options.historyDays * DAY_MS, asOfMs, (entry) => {
    if (entry.agent.type === 'user_reference') actedInHistory.add(entry.agent.id);
  });

  // A sync at `asOf` reads every subscription, so each one falls in every window.
  const directSubscriptions = subscribedObjects(account, options, true);

  const recommendations: RecommendationTruth[] = [];
  for (const user of account.users) {
    const license = account.licenses.find((candidate) => candidate.id === user.licenseId);
    const cover = coverage.find((candidate) => candidate.personId === user.id);
    if (license === undefined || cover === undefined) continue;

    const uses = features.filter((use) => use.personId === user.id);
    const activityKind = (use: FeatureUseTruth) => options.signals.activity[use.featureKey];
    const activityUses = uses.filter((use) => activityKind(use) !== undefined);
    const lastActivityMs = activityUses.length === 0 ? null : Math.max(...activityUses.map((use) => Date.parse(use.lastUsedAt)));
    const sumOf = (kind: 'responder' | 'on_call' | 'configuration') => uses.filter((use) => activityKind(use) === kind).reduce((sum, use) => sum + countIn(use), 0);

    // Seatwise reads creation times from PagerDuty's analytics and skips people created within the window.
    if (user.createdAt.getTime() > unusedSinceMs) continue;
    let kind: RecommendationKindTruth | null = null;
    if (user.invitationSent && lastActivityMs === null && !actedInHistory.has(user.id)) kind = 'remove_invitation';
    else if (lastActivityMs === null || lastActivityMs < unusedSinceMs) {
      // Someone who follows status updates needs a Stakeholder seat, so a Full User moves down to one and a Stakeholder keeps it.
      if ((directSubscriptions.get(user.id)?.size ?? 0) === 0) kind = 'reclaim_seat';
      else if (license.roleGroup === 'FullUser') kind = 'downgrade_to_stakeholder';
    } else if (license.roleGroup === 'FullUser' && sumOf('responder') === 0 && sumOf('on_call') === 0 && sumOf('configuration') === 0 && !cover.isPermanentOnCall && cover.escalationPolicyIds.length === 0) {
      kind = 'downgrade_to_stakeholder';
    }
    if (kind === null) continue;

    const guardrails: Array<{ code: string; isBlocking: boolean }> = [];
    if (options.exemptEmails.includes(user.email.toLowerCase())) guardrails.push({ code: 'exempt', isBlocking: true });
    if (user.role === 'owner') guardrails.push({ code: 'account_owner', isBlocking: true });
    if (user.role === 'admin' && admins <= 1) guardrails.push({ code: 'last_admin', isBlocking: true });
    if (cover.openIncidentCount > 0) guardrails.push({ code: 'open_incidents', isBlocking: true });
    for (const _level of cover.strandedLevels) guardrails.push({ code: 'strands_escalation_level', isBlocking: true });
    for (const _schedule of cover.strandedSchedules) guardrails.push({ code: 'strands_schedule', isBlocking: true });
    if (cover.isPermanentOnCall) guardrails.push({ code: 'permanent_on_call', isBlocking: true });
    if (cover.upcomingShiftCount > 0) guardrails.push({ code: 'upcoming_on_call', isBlocking: true });
    if (cover.escalationPolicyIds.length > 0 && cover.strandedLevels.length === 0) guardrails.push({ code: 'on_escalation_policy', isBlocking: false });
    if (kind === 'downgrade_to_stakeholder' && stakeholderSeatsFree !== null && stakeholderSeatsFree <= 0) guardrails.push({ code: 'no_stakeholder_seat', isBlocking: false });

    let status: RecommendationTruth['status'] = 'ready';
    if (guardrails.length > 0) status = guardrails.some((guardrail) => guardrail.isBlocking) ? 'blocked' : 'flagged';
    recommendations.push({
      kind,
      personId: user.id,
      status,
      yearlySavingMinor: yearlySavingOf(kind, license.name, account, options.monthlyPrices),
      effectiveDate: firstOfNextMonth(options.asOf),
      guardrails: guardrails.map((guardrail) => guardrail.code).sort(),
    });
  }
  return recommendations;
}

/** Computes twelve months of the seat's price. A downgrade saves the difference to a Stakeholder seat. */
function yearlySavingOf(kind: RecommendationKindTruth, licenseName: string, account: SimAccount, monthlyPrices: Record<string, number> | null): number | null {
  if (monthlyPrices === null) return null;
  const price = monthlyPrices[licenseName];
  if (price === undefined) return null;
  if (kind !== 'downgrade_to_stakeholder') return price * 12;
  const stakeholder = account.licenses.find((license) => license.roleGroup === 'Stakeholder');
  const stakeholderPrice = stakeholder === undefined ? undefined : monthlyPrices[stakeholder.name];
  return stakeholderPrice === undefined ? null : Math.max(0, price - stakeholderPrice) * 12;
}

/** Returns the first of next month, because PagerDuty bills each month's highest seat count. */
function firstOfNextMonth(asOf: Date): string {
  return new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() + 1, 1)).toISOString().slice(0, 10);
}
