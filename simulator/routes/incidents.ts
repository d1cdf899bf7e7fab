import type { IncidentState } from '../account-index.ts';
import { PdError } from '../errors.ts';
import { incidentPriority } from '../incident-priority.ts';
import { incidentSubscribers } from '../incident-subscribers.ts';
import type { SimIncident, SimLogEntry, SimUser } from '../model.ts';
import { offsetPage, parseOffsetRequest } from '../paging.ts';
import { logEntryObject, teamObject, teamReference, userObject, userReference, type WireContext } from '../wire.ts';
import { serviceObject } from './inventory.ts';
import { arrayParam, includes, instantParam, pathParam, reference, requireAbility, type Json, type Route, type RouteInput } from './common.ts';

const ID = '([A-Z0-9]+)';
const LOG_ENTRY_INCLUDES = ['incidents', 'services', 'channels', 'teams'] as const;
const INCIDENT_INCLUDES = [
  'acknowledgers', 'agents', 'assignees', 'conference_bridge', 'escalation_policies', 'first_trigger_log_entries', 'priorities', 'services', 'teams', 'users',
] as const;
/** `/incidents` windows span at most six months and default to one month (PagerDuty's API reference). */
const MAX_INCIDENT_WINDOW_MONTHS = 6;
const DEFAULT_INCIDENT_WINDOW_MONTHS = 1;
/** `/notifications` windows must be shorter than three months. */
const MAX_NOTIFICATION_WINDOW_MONTHS = 3;

function addMonths(atMs: number, months: number): number {
  const date = new Date(atMs);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.getTime();
}

/**
 * Entry types left out of `is_overview=true`: notifications and routing bookkeeping.
 * NOTE: PagerDuty documents only that the overview keeps "the most important changes", so this list is a guess.
 */
const NON_OVERVIEW_TYPES: ReadonlySet<SimLogEntry['type']> = new Set(['notify_log_entry', 'assign_log_entry', 'urgency_change_log_entry']);

/**
 * Filters and pages log entries (newest first); `since` is inclusive and `until` exclusive. Without
 * `since` the whole history is served, and without `until` everything up to now.
 * NOTE: PagerDuty documents no default window for log entries; the unbounded default is an assumption.
 */
function pageLogEntries(input: RouteInput, incidentEntries: SimLogEntry[] | null): Json {
  const { params, wire, context } = input;
  const include = includes(params, LOG_ENTRY_INCLUDES);
  const since = instantParam(params, 'since', input.timeZone) ?? -Infinity;
  const until = instantParam(params, 'until', input.timeZone) ?? context.dataNowMs() + 1;
  if (since > until) throw new PdError('invalidInput', ['since must be before until']);
  const paging = parseOffsetRequest(params);
  const isOverview = params.get('is_overview') === 'true';
  const teamIds = arrayParam(params, 'team_ids');
  if (teamIds.length > 0) requireAbility(context, 'teams');
  const keep = (entry: SimLogEntry): boolean =>
    (!isOverview || !NON_OVERVIEW_TYPES.has(entry.type)) && (teamIds.length === 0 || teamIds.includes(wire.index.service(entry.serviceId)?.teamId ?? ''));

  let count: number;
  let items: SimLogEntry[];
  if (incidentEntries === null && !isOverview && teamIds.length === 0) {
    // The account-wide list without filters pages straight from the store, which large accounts need.
    count = context.account.history.countEntries(since, until);
    items = context.account.history.entries(since, until, paging.offset, paging.limit);
  } else {
    const selected: SimLogEntry[] = [];
    const collect = (entry: SimLogEntry): void => {
      if (keep(entry)) selected.push(entry);
    };
    if (incidentEntries === null) context.account.history.scanEntries(since, until, collect);
    else for (const entry of incidentEntries) if (entry.createdAt.getTime() >= since && entry.createdAt.getTime() < until) collect(entry);
    count = selected.length;
    items = selected.slice(paging.offset, paging.offset + paging.limit);
  }

  const page = offsetPage(paging, count, () => items);
  return {
    log_entries: page.items.map((entry) => withIncludedObjects(input, logEntryObject(wire, entry, include), entry, include)),
    ...page.envelope,
  };
}

/** Replaces references by full objects for `include[]=incidents|services|teams`. */
function withIncludedObjects(input: RouteInput, wireEntry: Json, entry: SimLogEntry, include: Set<string>): Json {
  if (include.has('incidents')) {
    const incident = input.wire.index.incident(entry.incidentId);
    if (incident !== undefined) wireEntry.incident = incidentObject(input, incident, new Set());
  }
  const service = input.wire.index.service(entry.serviceId);
  if (include.has('services') && service !== undefined) wireEntry.service = serviceObject(input, service, new Set());
  if (include.has('teams')) {
    const team = service === undefined ? undefined : input.wire.index.team(service.teamId);
    wireEntry.teams = team === undefined ? [] : [teamObject(input.wire, team)];
  }
  return wireEntry;
}

function listLogEntries(input: RouteInput): Json {
  return pageLogEntries(input, null);
}

function getLogEntry(input: RouteInput): Json {
  const entry = input.context.account.history.entry(pathParam(input));
  if (entry === undefined) throw new PdError('notFound', [`Log entry ${pathParam(input)} not found`]);
  const include = includes(input.params, LOG_ENTRY_INCLUDES);
  return { log_entry: withIncludedObjects(input, logEntryObject(input.wire, entry, include), entry, include) };
}

function findIncident(input: RouteInput): { incident: SimIncident; state: IncidentState } {
  const incident = input.wire.index.incident(pathParam(input));
  const state = incident === undefined ? undefined : input.wire.index.incidentState(incident.id);
  if (incident === undefined || state === undefined) throw new PdError('notFound', [`Incident ${pathParam(input)} not found`]);
  return { incident, state };
}

function listIncidentLogEntries(input: RouteInput): Json {
  const { state } = findIncident(input);
  return pageLogEntries(input, [...state.entries].reverse());
}

/**
 * `GET /incidents/{id}/status_updates/subscribers`: the users and teams that follow one incident.
 * None of them follows it through a business service, so the context fields are false and null.
 */
function listIncidentSubscribers(input: RouteInput): Json {
  const { incident } = findIncident(input);
  const subscribers = incidentSubscribers(input.context.account, incident);
  const page = offsetPage(parseOffsetRequest(input.params), subscribers.length, (start, end) => subscribers.slice(start, end));
  return {
    subscribers: page.items.map((subscriber) => ({ subscriber_id: subscriber.subscriberId, subscriber_type: subscriber.subscriberType, has_indirect_subscription: false, subscribed_via: null })),
    ...page.envelope,
    account_id: input.context.account.id,
  };
}

function agentRef(wire: WireContext, agent: SimLogEntry['agent']): Json {
  if (agent.type === 'user_reference') return userReference(wire, wire.index.anyUser(agent.id), agent.id);
  if (agent.type === 'service_reference') return reference(wire, 'service_reference', agent.id, wire.index.service(agent.id)?.name ?? null, `/services/${agent.id}`, `/service-directory/${agent.id}`);
  const service = wire.index.serviceByIntegration(agent.id);
  return reference(wire, 'integration_reference', agent.id, service?.integrationName ?? null, `/services/${service?.id ?? ''}/integrations/${agent.id}`, null);
}

function personRef(wire: WireContext, userId: string, include: boolean): Json {
  const user: SimUser | undefined = wire.index.anyUser(userId);
  return include && user !== undefined && wire.index.user(userId) !== undefined ? userObject(wire, user, new Set()) : userReference(wire, user, userId);
}

function incidentObject(input: RouteInput, incident: SimIncident, include: Set<string>): Json {
  const { wire, context } = input;
  const state = wire.index.incidentState(incident.id);
  const service = wire.index.service(incident.serviceId);
  const policy = context.account.escalationPolicies.find((candidate) => candidate.id === service?.escalationPolicyId);
  const team = service === undefined ? undefined : wire.index.team(service.teamId);
  const status = state?.status ?? 'triggered';
  const priority = incidentPriority(context.account, incident);

  return {
    id: incident.id,
    type: 'incident',
    summary: `[#${incident.number}] ${incident.title}`,
    self: `${wire.apiUrl}/incidents/${incident.id}`,
    html_url: `https://${wire.account.subdomain}.pagerduty.com/incidents/${incident.id}`,
    incident_number: incident.number,
    title: incident.title,
    description: incident.title,
    created_at: wire.formatTime(incident.createdAt),
    updated_at: wire.formatTime(state?.updatedAt ?? incident.createdAt),
    status,
    incident_key: `${incident.serviceId.toLowerCase()}-${incident.number}`,
    service: service === undefined ? null : reference(wire, include.has('services') ? 'service' : 'service_reference', service.id, service.name, `/services/${service.id}`, `/service-directory/${service.id}`),
    assignments: (state?.assignments ?? []).map((assignment) => ({ at: wire.formatTime(assignment.at), assignee: personRef(wire, assignment.userId, include.has('assignees') || include.has('users')) })),
    assigned_via: 'escalation_policy',
    acknowledgements: (state?.acknowledgements ?? []).map((acknowledgement) => ({
      at: wire.formatTime(acknowledgement.at),
      acknowledger: personRef(wire, acknowledgement.userId, include.has('acknowledgers') || include.has('users')),
    })),
    last_status_change_at: wire.formatTime(state?.lastStatusChangeAt ?? incident.createdAt),
    last_status_change_by: state === undefined ? null : agentRef(wire, state.lastStatusChangeBy),
    resolved_at: state?.resolvedAt === null || state?.resolvedAt === undefined ? null : wire.formatTime(state.resolvedAt),
    first_trigger_log_entry:
      state?.firstTriggerEntryId === undefined
        ? null
        : reference(wire, 'trigger_log_entry_reference', state.firstTriggerEntryId, 'Triggered through the API', `/log_entries/${state.firstTriggerEntryId}`, `/incidents/${incident.id}/log_entries/${state.firstTriggerEntryId}`),
    escalation_policy: policy === undefined ? null : reference(wire, 'escalation_policy_reference', policy.id, policy.name, `/escalation_policies/${policy.id}`, `/escalation_policies/${policy.id}`),
    teams: team === undefined ? [] : [teamReference(wire, team)],
    pending_actions: [],
    alert_counts: { all: 1, triggered: status === 'resolved' ? 0 : 1, resolved: status === 'resolved' ? 1 : 0 },
    is_mergeable: true,
    urgency: incident.urgency,
    priority:
      priority === null
        ? null
        : { id: priority.id, type: 'priority', summary: priority.name, self: `${wire.apiUrl}/priorities/${priority.id}`, html_url: null, name: priority.name, description: priority.description },
    incidents_responders: [],
    responder_requests: [],
  };
}

/**
 * Returns the creation-time window of `GET /incidents` by PagerDuty's rules. `date_range=all` ignores
 * since and until. One given end opens a one-month window from it, and none means the last month.
 * Windows over six months are rejected.
 */
function incidentWindow(input: RouteInput): { sinceMs: number; untilMs: number } {
  const { params, context } = input;
  if (params.get('date_range') === 'all') return { sinceMs: -Infinity, untilMs: Infinity };
  if (params.has('date_range')) throw new PdError('invalidInput', [`date_range must be "all", got "${params.get('date_range') ?? ''}"`]);

  const since = instantParam(params, 'since', input.timeZone);
  const until = instantParam(params, 'until', input.timeZone);
  if (since !== undefined && until !== undefined) {
    if (until < since) throw new PdError('invalidInput', ['until must not be before since']);
    if (until > addMonths(since, MAX_INCIDENT_WINDOW_MONTHS)) throw new PdError('invalidInput', [`The date range may span at most ${MAX_INCIDENT_WINDOW_MONTHS} months; split it into smaller windows`]);
    return { sinceMs: since, untilMs: until };
  }
  if (since !== undefined) return { sinceMs: since, untilMs: addMonths(since, DEFAULT_INCIDENT_WINDOW_MONTHS) };
  if (until !== undefined) return { sinceMs: addMonths(until, -DEFAULT_INCIDENT_WINDOW_MONTHS), untilMs: until };
  const now = context.dataNowMs();
  return { sinceMs: addMonths(now, -DEFAULT_INCIDENT_WINDOW_MONTHS), untilMs: now };
}

const INCIDENT_SORT_FIELDS = ['incident_number', 'created_at', 'resolved_at', 'urgency'] as const;

function sortIncidents(input: RouteInput, incidents: SimIncident[]): SimIncident[] {
  const sortBy = arrayParam(input.params, 'sort_by');
  const single = input.params.get('sort_by');
  let keys = sortBy;
  if (keys.length === 0 && single !== null) keys = [single];
  if (keys.length > 2) throw new PdError('invalidInput', ['sort_by takes at most two fields']);
  const comparators = keys.map((key) => {
    const [field, direction = 'asc'] = key.split(':');
    if (!(INCIDENT_SORT_FIELDS as readonly string[]).includes(field ?? '') || !['asc', 'desc'].includes(direction)) {
      throw new PdError('invalidInput', [`sort_by "${key}" must be one of ${INCIDENT_SORT_FIELDS.join(', ')} with an optional :asc or :desc`]);
    }
    const sign = direction === 'desc' ? -1 : 1;
    const value = (incident: SimIncident): number => {
      if (field === 'urgency') return incident.urgency === 'high' ? 1 : 0;
      if (field === 'resolved_at') return input.wire.index.incidentState(incident.id)?.resolvedAt?.getTime() ?? Infinity;
      if (field === 'created_at') return incident.createdAt.getTime();
      return incident.number;
    };
    return (a: SimIncident, b: SimIncident): number => sign * (value(a) - value(b));
  });
  if (comparators.length === 0) return incidents;
  return [...incidents].sort((a, b) => {
    for (const compare of comparators) {
      const result = compare(a, b);
      if (result !== 0) return result;
    }
    return a.number - b.number;
  });
}

/** Serves `GET /incidents`, filtered on creation time, oldest first unless `sort_by` sets another order. */
function listIncidents(input: RouteInput): Json {
  const { params, context, wire } = input;
  const include = includes(params, INCIDENT_INCLUDES);
  const { sinceMs, untilMs } = incidentWindow(input);
  const statuses = arrayParam(params, 'statuses');
  const urgencies = arrayParam(params, 'urgencies');
  const serviceIds = arrayParam(params, 'service_ids');
  const teamIds = arrayParam(params, 'team_ids');
  const userIds = arrayParam(params, 'user_ids');
  const incidentKey = params.get('incident_key');
  if (teamIds.length > 0) requireAbility(context, 'teams');
  for (const status of statuses) if (!['triggered', 'acknowledged', 'resolved'].includes(status)) throw new PdError('invalidInput', [`statuses[] value "${status}" is not one of triggered, acknowledged, resolved`]);
  for (const urgency of urgencies) if (!['high', 'low'].includes(urgency)) throw new PdError('invalidInput', [`urgencies[] value "${urgency}" is not one of high, low`]);
  const paging = parseOffsetRequest(params);

  const hasFilters = statuses.length + urgencies.length + serviceIds.length + teamIds.length + userIds.length > 0 || incidentKey !== null;
  const hasSort = params.has('sort_by') || params.has('sort_by[]');
  if (!hasFilters && !hasSort) {
    // Unfiltered pages come straight from the store, oldest first, which large accounts need.
    const count = context.account.history.countIncidents(sinceMs, untilMs);
    const page = offsetPage(paging, count, (start, end) => context.account.history.incidents(sinceMs, untilMs, start, end - start));
    return { incidents: page.items.map((incident) => incidentObject(input, incident, include)), ...page.envelope };
  }

  const matching: SimIncident[] = [];
  context.account.history.scanIncidents(sinceMs, untilMs, 'oldest_first', (incident) => {
    const state = wire.index.incidentState(incident.id);
    const status = state?.status ?? 'triggered';
    if (statuses.length > 0 && !statuses.includes(status)) return;
    if (urgencies.length > 0 && !urgencies.includes(incident.urgency)) return;
    if (serviceIds.length > 0 && !serviceIds.includes(incident.serviceId)) return;
    if (teamIds.length > 0 && !teamIds.includes(wire.index.service(incident.serviceId)?.teamId ?? '')) return;
    // Resolved incidents have no assignees, so a user filter only ever matches open incidents.
    if (userIds.length > 0 && !(state?.assignments ?? []).some((assignment) => userIds.includes(assignment.userId))) return;
    if (incidentKey !== null && `${incident.serviceId.toLowerCase()}-${incident.number}` !== incidentKey) return;
    matching.push(incident);
  });
  const sorted = sortIncidents(input, matching);
  const page = offsetPage(paging, sorted.length, (start, end) => sorted.slice(start, end));
  return { incidents: page.items.map((incident) => incidentObject(input, incident, include)), ...page.envelope };
}

function getIncident(input: RouteInput): Json {
  const { incident } = findIncident(input);
  return { incident: incidentObject(input, incident, includes(input.params, INCIDENT_INCLUDES)) };
}

const NOTIFICATION_TYPES = ['sms_notification', 'email_notification', 'phone_notification', 'push_notification'] as const;
type NotificationType = (typeof NOTIFICATION_TYPES)[number];

/** The first non-email contact method by notification rule order, else email. */
/** Returns the type of notification a person receives: by their first notification rule's contact method, else email. */
export function notificationTypeFor(user: SimUser | undefined): NotificationType {
  return notificationFor(user).type;
}

function notificationFor(user: SimUser | undefined): { type: NotificationType; address: string | null } {
  const rule = user?.notificationRules[0];
  const method = user?.contactMethods.find((candidate) => candidate.id === rule?.contactMethodId) ?? user?.contactMethods[0];
  if (method === undefined) return { type: 'email_notification', address: user?.email ?? null };
  switch (method.type) {
    case 'sms_contact_method':
      return { type: 'sms_notification', address: method.address };
    case 'phone_contact_method':
      return { type: 'phone_notification', address: method.address };
    case 'push_notification_contact_method':
      return { type: 'push_notification', address: null };
    case 'email_contact_method':
      return { type: 'email_notification', address: method.address };
    default: {
      const unhandled: never = method.type;
      throw new Error(`notificationFor: unknown contact method type ${String(unhandled)}`);
    }
  }
}

/** `GET /notifications`: one notification per `notify_log_entry`; the window must be shorter than three months. */
function listNotifications(input: RouteInput): Json {
  const { params, wire, context } = input;
  const include = includes(params, ['users']);
  const sinceMs = instantParam(params, 'since', input.timeZone);
  const untilMs = instantParam(params, 'until', input.timeZone);
  if (sinceMs === undefined || untilMs === undefined) throw new PdError('invalidInput', ['since and until are required for notifications']);
  if (untilMs < sinceMs) throw new PdError('invalidInput', ['until must not be before since']);
  if (untilMs >= addMonths(sinceMs, MAX_NOTIFICATION_WINDOW_MONTHS)) throw new PdError('invalidInput', ['The notification window must be shorter than 3 months; split it into smaller windows']);
  const filter = params.get('filter');
  if (filter !== null && !(NOTIFICATION_TYPES as readonly string[]).includes(filter)) throw new PdError('invalidInput', [`filter must be one of ${NOTIFICATION_TYPES.join(', ')}`]);
  const paging = parseOffsetRequest(params);

  const selected: { entry: SimLogEntry; user: SimUser | undefined; type: NotificationType; address: string | null }[] = [];
  context.account.history.scanEntries(sinceMs, untilMs, (entry) => {
    if (entry.type !== 'notify_log_entry' || entry.userId === undefined) return;
    const user = wire.index.anyUser(entry.userId);
    const notification = notificationFor(user);
    if (filter === null || notification.type === filter) selected.push({ entry, user, ...notification });
  });
  selected.reverse();

  const page = offsetPage(paging, selected.length, (start, end) => selected.slice(start, end));
  return {
    notifications: page.items.map((notification) => ({
      id: `N${notification.entry.id}`,
      type: notification.type,
      started_at: wire.formatTime(notification.entry.createdAt),
      ...(notification.address === null ? {} : { address: notification.address }),
      user: include.has('users') && notification.user !== undefined ? userObject(wire, notification.user, new Set()) : userReference(wire, notification.user, notification.entry.userId ?? ''),
    })),
    ...page.envelope,
  };
}

export const INCIDENT_ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/incidents$/, scope: 'incidents.read', handle: listIncidents },
  { method: 'GET', pattern: new RegExp(`^/incidents/${ID}$`), scope: 'incidents.read', handle: getIncident },
  { method: 'GET', pattern: new RegExp(`^/incidents/${ID}/log_entries$`), scope: 'incidents.read', handle: listIncidentLogEntries },
  { method: 'GET', pattern: new RegExp(`^/incidents/${ID}/status_updates/subscribers$`), scope: 'subscribers.read', handle: listIncidentSubscribers },
  { method: 'GET', pattern: /^\/log_entries$/, scope: 'incidents.read', handle: listLogEntries },
  { method: 'GET', pattern: new RegExp(`^/log_entries/${ID}$`), scope: 'incidents.read', handle: getLogEntry },
  { method: 'GET', pattern: /^\/notifications$/, scope: 'users:notifications.read', handle: listNotifications },
];
