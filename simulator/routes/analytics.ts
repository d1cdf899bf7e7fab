import { z } from 'zod';
import { PdError } from '../errors.ts';
import { incidentPriority } from '../incident-priority.ts';
import type { SimIncident, SimUser } from '../model.ts';
import { formatInstant, isValidTimeZone } from '../time.ts';
import { pathParam, type Json, type Route, type RouteInput } from './common.ts';

/** Analytics pages hold at most 1,000 rows, and 1,000 is also the default. */
const MAX_ANALYTICS_LIMIT = 1000;
const DAY_MS = 86_400_000;
/** Analytics date filters may span at most one year. */
const MAX_ANALYTICS_RANGE_MS = 366 * DAY_MS;

const pagingFields = {
  limit: z.number().int().min(1).max(MAX_ANALYTICS_LIMIT).optional(),
  starting_after: z.string().nullable().optional(),
  ending_before: z.string().nullable().optional(),
  order: z.enum(['asc', 'desc']).optional(),
  order_by: z.string().optional(),
  time_zone: z.string().optional(),
};

const usersRequest = z.object({
  ...pagingFields,
  filters: z
    .object({
      created_at_start: z.string().optional(),
      created_at_end: z.string().optional(),
      team_ids: z.array(z.string()).optional(),
      user_ids: z.array(z.string()).optional(),
      role_ids: z.array(z.string()).optional(),
    })
    .optional(),
});

const incidentsRequest = z.object({
  ...pagingFields,
  filters: z
    .object({
      created_at_start: z.string().optional(),
      created_at_end: z.string().optional(),
      urgency: z.enum(['high', 'low']).optional(),
      major: z.boolean().optional(),
      team_ids: z.array(z.string()).optional(),
      service_ids: z.array(z.string()).optional(),
    })
    .optional(),
});

function parseBody<T>(schema: z.ZodType<T>, body: Json): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new PdError('invalidInput', parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`));
  return parsed.data;
}

function parseDate(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Date.parse(value);
  if (Number.isNaN(parsed)) throw new PdError('invalidInput', [`filters.${name} "${value}" is not an ISO 8601 date-time`]);
  return parsed;
}

function checkRange(start: number | undefined, end: number | undefined): void {
  if (start !== undefined && end !== undefined && end - start > MAX_ANALYTICS_RANGE_MS) {
    throw new PdError('invalidInput', ['created_at_start and created_at_end may span at most one year']);
  }
}

function encodeCursor(position: number): string {
  return Buffer.from(`row:${position}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const decoded = Number(Buffer.from(cursor, 'base64url').toString('utf8').replace(/^row:/, ''));
  if (!Number.isInteger(decoded) || decoded < 0) throw new PdError('invalidInput', [`starting_after "${cursor}" is not a cursor this endpoint returned`]);
  return decoded;
}

/** Slices rows by `starting_after`: the returned `last` cursor continues after the page's last row. */
function analyticsPage<T>(rows: T[], request: { limit?: number; starting_after?: string | null }): { items: T[]; first: string | null; last: string | null; more: boolean; limit: number } {
  const limit = request.limit ?? MAX_ANALYTICS_LIMIT;
  const start = request.starting_after === undefined || request.starting_after === null ? 0 : decodeCursor(request.starting_after) + 1;
  const items = rows.slice(start, start + limit);
  return {
    items,
    first: items.length === 0 ? null : encodeCursor(start),
    last: items.length === 0 ? null : encodeCursor(start + items.length - 1),
    more: start + limit < rows.length,
    limit,
  };
}

function zoneOf(request: { time_zone?: string }): string {
  const timeZone = request.time_zone ?? 'Etc/UTC';
  if (!isValidTimeZone(timeZone)) throw new PdError('invalidInput', [`time_zone "${timeZone}" is not a valid IANA time zone`]);
  return timeZone;
}

/** Derives a number for the account, because analytics reports `account_id` as an integer. */
function numericAccountId(accountId: string): number {
  let hash = 0;
  for (const character of accountId) hash = (hash * 31 + character.charCodeAt(0)) % 1_000_000;
  return 1_000_000 + hash;
}

function rawUserRow(input: RouteInput, user: SimUser, timeZone: string): Json {
  const { context, wire } = input;
  const team = user.teamIds[0] === undefined ? undefined : wire.index.team(user.teamIds[0]);
  const schedulesCount = context.account.schedules.filter((schedule) => schedule.layer.userIds.includes(user.id)).length;
  const policiesCount = context.account.escalationPolicies.filter((policy) =>
    policy.rules.some((rule) => rule.targets.some((target) => target.id === user.id || (target.type === 'schedule_reference' && wire.index.schedule(target.id)?.layer.userIds.includes(user.id)))),
  ).length;
  const channelTypes = [...new Set(user.contactMethods.map((method) => CHANNEL_TYPE_NAMES[method.type]))];
  return {
    id: user.id,
    user_name: user.name,
    email: user.email,
    account_id: numericAccountId(context.account.id),
    description: null,
    time_zone: user.timeZone,
    role: user.role,
    team_id: team?.id ?? null,
    team_name: team?.name ?? null,
    created_at: formatInstant(user.createdAt, timeZone),
    last_sign_in_at: user.lastSignInAt === null ? null : formatInstant(user.lastSignInAt, timeZone),
    default_notification_channel_count: user.notificationRules.length,
    escalation_policies_count: policiesCount,
    schedules_count: schedulesCount,
    channel_types_configured: channelTypes,
    team_count: user.teamIds.length,
    downloaded_mobile_app: user.hasMobileApp,
    notification_methods: user.notificationRules.length > 0,
    on_escalation_policy: policiesCount > 0,
    on_schedule: schedulesCount > 0,
    signed_up: !user.invitationSent,
  };
}

const CHANNEL_TYPE_NAMES: Record<SimUser['contactMethods'][number]['type'], string> = {
  email_contact_method: 'EmailChannel',
  phone_contact_method: 'PhoneChannel',
  sms_contact_method: 'SmsChannel',
  push_notification_contact_method: 'PushNotificationChannel',
};

/** `POST /analytics/raw/users`: one row per person, paged by `starting_after`. */
function rawUsers(input: RouteInput): Json {
  const request = parseBody(usersRequest, input.body);
  const timeZone = zoneOf(request);
  const filters = request.filters ?? {};
  const start = parseDate('created_at_start', filters.created_at_start);
  const end = parseDate('created_at_end', filters.created_at_end);
  checkRange(start, end);

  const orderBy = request.order_by ?? 'name';
  if (!['name', 'user_name', 'created_at', 'last_sign_in_at', 'user_id', 'email'].includes(orderBy)) throw new PdError('invalidInput', [`order_by "${orderBy}" is not supported`]);
  const order = request.order ?? 'asc';
  const users = input.context.account.users
    .filter(
      (user) =>
        (start === undefined || user.createdAt.getTime() >= start) &&
        (end === undefined || user.createdAt.getTime() < end) &&
        (filters.team_ids === undefined || user.teamIds.some((teamId) => filters.team_ids?.includes(teamId))) &&
        (filters.user_ids === undefined || filters.user_ids.includes(user.id)) &&
        (filters.role_ids === undefined || filters.role_ids.includes(user.role)),
    )
    .sort((a, b) => (order === 'asc' ? 1 : -1) * compareUsers(a, b, orderBy));

  const page = analyticsPage(users, request);
  return {
    first: page.first,
    last: page.last,
    limit: page.limit,
    more: page.more,
    order,
    order_by: orderBy,
    filters,
    time_zone: timeZone,
    data: page.items.map((user) => rawUserRow(input, user, timeZone)),
  };
}

function compareUsers(a: SimUser, b: SimUser, orderBy: string): number {
  const key = (user: SimUser): string | number => {
    if (orderBy === 'created_at') return user.createdAt.getTime();
    if (orderBy === 'last_sign_in_at') return user.lastSignInAt?.getTime() ?? 0;
    if (orderBy === 'user_id') return user.id;
    if (orderBy === 'email') return user.email;
    return user.name;
  };
  const left = key(a);
  const right = key(b);
  if (left === right) return a.id < b.id ? -1 : 1;
  return left < right ? -1 : 1;
}

/** OAuth tokens and user API keys must narrow raw incident analytics by team or service (PagerDuty's API reference). */
function requireTeamOrServiceFilter(input: RouteInput, filters: { team_ids?: string[]; service_ids?: string[] }): void {
  if (input.caller.kind === 'account_api_key') return;
  if ((filters.team_ids?.length ?? 0) > 0 || (filters.service_ids?.length ?? 0) > 0) return;
  throw new PdError('invalidInput', ['A team_ids or service_ids filter is required for user-level API keys and OAuth tokens']);
}

function rawIncidentRow(input: RouteInput, incident: SimIncident, timeZone: string): Json {
  const { wire, context } = input;
  const state = wire.index.incidentState(incident.id);
  const service = wire.index.service(incident.serviceId);
  const team = service === undefined ? undefined : wire.index.team(service.teamId);
  const policy = context.account.escalationPolicies.find((candidate) => candidate.id === service?.escalationPolicyId);
  const entries = state?.entries ?? [];
  const acknowledgers = [...new Set(entries.filter((entry) => entry.type === 'acknowledge_log_entry' && entry.agent.type === 'user_reference').map((entry) => entry.agent.id))];
  const assigned = [...new Set(entries.filter((entry) => entry.type === 'assign_log_entry' && entry.userId !== undefined).map((entry) => entry.userId as string))];
  const resolve = entries.find((entry) => entry.type === 'resolve_log_entry');
  const firstAck = entries.find((entry) => entry.type === 'acknowledge_log_entry');
  const name = (userId: string): string => wire.index.anyUser(userId)?.name ?? userId;
  const seconds = (entryAt: Date): number => Math.round((entryAt.getTime() - incident.createdAt.getTime()) / 1000);
  const priority = incidentPriority(context.account, incident);

  return {
    id: incident.id,
    incident_number: incident.number,
    created_at: formatInstant(incident.createdAt, timeZone),
    updated_at: formatInstant(state?.updatedAt ?? incident.createdAt, timeZone),
    ...(resolve === undefined ? {} : { resolved_at: formatInstant(resolve.createdAt, timeZone), seconds_to_resolve: seconds(resolve.createdAt) }),
    status: state?.status ?? 'triggered',
    urgency: incident.urgency,
    major: false,
    description: incident.title,
    service_id: incident.serviceId,
    service_name: service?.name ?? '',
    team_id: team?.id ?? null,
    team_name: team?.name ?? null,
    escalation_policy_id: policy?.id ?? '',
    escalation_policy_name: policy?.name ?? '',
    acknowledged_user_ids: acknowledgers,
    acknowledged_user_names: acknowledgers.map(name),
    assigned_user_ids: assigned,
    assigned_user_names: assigned.map(name),
    acknowledgement_count: entries.filter((entry) => entry.type === 'acknowledge_log_entry').length,
    assignment_count: entries.filter((entry) => entry.type === 'assign_log_entry').length,
    escalation_count: entries.filter((entry) => entry.type === 'escalate_log_entry').length,
    timeout_escalation_count: entries.filter((entry) => entry.type === 'escalate_log_entry' && entry.channel.type === 'timeout').length,
    manual_escalation_count: 0,
    reassignment_count: 0,
    auto_resolved: resolve !== undefined && resolve.agent.type !== 'user_reference',
    ...(resolve?.agent.type === 'user_reference' ? { resolved_by_user_id: resolve.agent.id, resolved_by_user_name: name(resolve.agent.id) } : {}),
    ...(firstAck === undefined ? {} : { seconds_to_first_ack: seconds(firstAck.createdAt) }),
    total_notifications: entries.filter((entry) => entry.type === 'notify_log_entry').length,
    priority_id: priority?.id ?? null,
    priority_name: priority?.name ?? null,
    priority_order: priority === null ? null : context.account.inventory.priorities.indexOf(priority) + 1,
  };
}

function filteredIncidents(input: RouteInput, filters: z.infer<typeof incidentsRequest>['filters'] = {}): SimIncident[] {
  const start = parseDate('created_at_start', filters.created_at_start);
  const end = parseDate('created_at_end', filters.created_at_end);
  checkRange(start, end);
  const matching: SimIncident[] = [];
  input.context.account.history.scanIncidents(start ?? -Infinity, end ?? Infinity, 'oldest_first', (incident) => {
    const teamId = input.wire.index.service(incident.serviceId)?.teamId ?? '';
    if (filters.urgency !== undefined && incident.urgency !== filters.urgency) return;
    if (filters.team_ids !== undefined && !filters.team_ids.includes(teamId)) return;
    if (filters.service_ids !== undefined && !filters.service_ids.includes(incident.serviceId)) return;
    matching.push(incident);
  });
  return matching;
}

/** `POST /analytics/raw/incidents`: one row per incident, newest first by default. */
function rawIncidents(input: RouteInput): Json {
  const request = parseBody(incidentsRequest, input.body);
  const timeZone = zoneOf(request);
  const filters = request.filters ?? {};
  requireTeamOrServiceFilter(input, filters);
  const order = request.order ?? 'desc';
  const incidents = filteredIncidents(input, filters);
  if (order === 'desc') incidents.reverse();

  const page = analyticsPage(incidents, request);
  return {
    first: page.first,
    last: page.last,
    limit: page.limit,
    more: page.more,
    order,
    order_by: 'created_at',
    filters,
    time_zone: timeZone,
    data: page.items.map((incident) => rawIncidentRow(input, incident, timeZone)),
  };
}

/** `POST /analytics/raw/responders/{responder_id}/incidents`: the incidents a person acknowledged or resolved. */
function rawResponderIncidents(input: RouteInput): Json {
  const responderId = pathParam(input);
  if (input.wire.index.user(responderId) === undefined) throw new PdError('notFound', [`Responder ${responderId} not found`]);
  const request = parseBody(incidentsRequest, input.body);
  const timeZone = zoneOf(request);
  const order = request.order ?? 'desc';
  const incidents = filteredIncidents(input, request.filters).filter((incident) =>
    (input.wire.index.incidentState(incident.id)?.entries ?? []).some((entry) => entry.agent.type === 'user_reference' && entry.agent.id === responderId),
  );
  if (order === 'desc') incidents.reverse();

  const page = analyticsPage(incidents, request);
  return {
    first: page.first,
    last: page.last,
    limit: page.limit,
    more: page.more,
    order,
    order_by: 'incident_created_at',
    filters: request.filters ?? {},
    time_zone: timeZone,
    responder_id: responderId,
    data: page.items.map((incident) => {
      const service = input.wire.index.service(incident.serviceId);
      return {
        incident_id: incident.id,
        incident_number: incident.number,
        incident_created_at: formatInstant(incident.createdAt, timeZone),
        description: incident.title,
        service_id: incident.serviceId,
        service_name: service?.name ?? null,
        urgency: incident.urgency,
        responder_id: responderId,
        responder_name: input.wire.index.user(responderId)?.name ?? null,
      };
    }),
  };
}

/**
 * The analytics POST endpoints required `analytics.read` until PagerDuty's 2026-03-27 description
 * switched them to `analytics.write` without a changelog entry, so either scope is accepted.
 */
const ANALYTICS_SCOPES = ['analytics.read', 'analytics.write'] as const;

export const ANALYTICS_ROUTES: Route[] = [
  { method: 'POST', pattern: /^\/analytics\/raw\/users$/, scope: ANALYTICS_SCOPES, handle: rawUsers },
  { method: 'POST', pattern: /^\/analytics\/raw\/incidents$/, scope: ANALYTICS_SCOPES, handle: rawIncidents },
  { method: 'POST', pattern: /^\/analytics\/raw\/responders\/([A-Z0-9]+)\/incidents$/, scope: ANALYTICS_SCOPES, handle: rawResponderIncidents },
];
