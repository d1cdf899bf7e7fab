import { PdError } from '../errors.ts';
import type { SimEscalationPolicy, SimSchedule } from '../model.ts';
import { finalShifts, onCallEntries, type OnCallEntry, type Shift } from '../oncall.ts';
import { offsetPage, parseOffsetRequest } from '../paging.ts';
import { teamReference, userObject, userReference, type WireContext } from '../wire.ts';
import { arrayParam, includes, instantParam, pathParam, reference, requireAbility, type Json, type Route, type RouteInput } from './common.ts';

const DAY_MS = 86_400_000;
/** `/oncalls` shows shifts at most 90 days after `since` (PagerDuty's API reference). */
const MAX_ONCALL_WINDOW_DAYS = 90;
/** Windows a schedule renders when the request gives none: the next two weeks. */
const DEFAULT_SCHEDULE_WINDOW_DAYS = 14;
const ID = '([A-Z0-9]+)';

function scheduleReference(wire: WireContext, schedule: SimSchedule): Json {
  return reference(wire, 'schedule_reference', schedule.id, schedule.name, `/schedules/${schedule.id}`, `/schedules/${schedule.id}`);
}

function policyReference(wire: WireContext, policy: SimEscalationPolicy): Json {
  return reference(wire, 'escalation_policy_reference', policy.id, policy.name, `/escalation_policies/${policy.id}`, `/escalation_policies/${policy.id}`);
}

function renderedEntries(wire: WireContext, shifts: Shift[]): Json[] {
  return shifts.map((shift) => ({
    start: wire.formatTime(new Date(shift.startMs)),
    end: wire.formatTime(new Date(shift.endMs)),
    user: userReference(wire, wire.index.anyUser(shift.userId), shift.userId),
  }));
}

function coverage(shifts: Shift[], sinceMs: number, untilMs: number): number {
  const covered = shifts.reduce((sum, shift) => sum + (shift.endMs - shift.startMs), 0);
  return untilMs > sinceMs ? Math.round((covered / (untilMs - sinceMs)) * 10_000) / 100 : 100;
}

function scheduleObject(input: RouteInput, schedule: SimSchedule, includeLayers: boolean, sinceMs: number, untilMs: number): Json {
  const { wire, context } = input;
  const layerUsers = schedule.layer.userIds.map((userId) => wire.index.anyUser(userId)).filter((user) => user !== undefined);
  const policies = context.account.escalationPolicies.filter((policy) => policy.rules.some((rule) => rule.targets.some((target) => target.id === schedule.id)));
  const team = wire.index.team(schedule.teamId);
  const final = finalShifts(schedule, sinceMs, untilMs);
  const overrides = schedule.overrides
    .filter((override) => override.end.getTime() > sinceMs && override.start.getTime() < untilMs)
    .map((override) => ({ userId: override.userId, startMs: Math.max(override.start.getTime(), sinceMs), endMs: Math.min(override.end.getTime(), untilMs) }));

  const body: Json = {
    id: schedule.id,
    type: 'schedule',
    summary: schedule.name,
    self: `${wire.apiUrl}/schedules/${schedule.id}`,
    html_url: `https://${wire.account.subdomain}.pagerduty.com/schedules/${schedule.id}`,
    name: schedule.name,
    description: schedule.description,
    time_zone: schedule.timeZone,
    users: layerUsers.map((user) => userReference(wire, user, user.id)),
    escalation_policies: policies.map((policy) => policyReference(wire, policy)),
    teams: team === undefined ? [] : [teamReference(wire, team)],
    final_schedule: { name: 'Final Schedule', rendered_schedule_entries: renderedEntries(wire, final), rendered_coverage_percentage: coverage(final, sinceMs, untilMs) },
    overrides_subschedule: { name: 'Overrides', rendered_schedule_entries: renderedEntries(wire, overrides), rendered_coverage_percentage: coverage(overrides, sinceMs, untilMs) },
  };
  if (includeLayers) {
    const layer = schedule.layer;
    const firstHandoff = layer.start;
    body.schedule_layers = [
      {
        id: layer.id,
        name: layer.name,
        start: wire.formatTime(layer.start),
        rotation_virtual_start: wire.formatTime(firstHandoff),
        rotation_turn_length_seconds: 7 * 24 * 3600,
        users: layer.userIds.map((userId) => ({ user: userReference(wire, wire.index.anyUser(userId), userId) })),
        restrictions: [],
        rendered_schedule_entries: [],
      },
    ];
  } else {
    body.schedule_layers = [];
  }
  return body;
}

function scheduleWindow(input: RouteInput): { sinceMs: number; untilMs: number } {
  const now = input.context.dataNowMs();
  const sinceMs = instantParam(input.params, 'since', input.timeZone) ?? now;
  const untilMs = instantParam(input.params, 'until', input.timeZone) ?? sinceMs + DEFAULT_SCHEDULE_WINDOW_DAYS * DAY_MS;
  if (untilMs < sinceMs) throw new PdError('invalidInput', ['until must not be before since']);
  return { sinceMs, untilMs };
}

function listSchedules(input: RouteInput): Json {
  const include = includes(input.params, ['schedule_layers', 'overrides_subschedule', 'final_schedule']);
  const query = (input.params.get('query') ?? '').trim().toLowerCase();
  const teamIds = arrayParam(input.params, 'team_ids');
  if (teamIds.length > 0) requireAbility(input.context, 'teams');
  const paging = parseOffsetRequest(input.params);
  const { sinceMs, untilMs } = scheduleWindow(input);
  const schedules = input.context.account.schedules.filter(
    (schedule) => (query === '' || schedule.name.toLowerCase().includes(query)) && (teamIds.length === 0 || teamIds.includes(schedule.teamId)),
  );
  const page = offsetPage(paging, schedules.length, (start, end) => schedules.slice(start, end));
  return { schedules: page.items.map((schedule) => scheduleObject(input, schedule, include.has('schedule_layers'), sinceMs, untilMs)), ...page.envelope };
}

function findSchedule(input: RouteInput): SimSchedule {
  const schedule = input.wire.index.schedule(pathParam(input));
  if (schedule === undefined) throw new PdError('notFound', [`Schedule ${pathParam(input)} not found`]);
  return schedule;
}

function getSchedule(input: RouteInput): Json {
  const { sinceMs, untilMs } = scheduleWindow(input);
  return { schedule: scheduleObject(input, findSchedule(input), true, sinceMs, untilMs) };
}

function listScheduleUsers(input: RouteInput): Json {
  const schedule = findSchedule(input);
  const { sinceMs, untilMs } = scheduleWindow(input);
  const userIds = [...new Set(finalShifts(schedule, sinceMs, untilMs).map((shift) => shift.userId))];
  const users = userIds.map((userId) => input.wire.index.user(userId)).filter((user) => user !== undefined);
  return { users: users.map((user) => userObject(input.wire, user, new Set())) };
}

function listOverrides(input: RouteInput): Json {
  const schedule = findSchedule(input);
  const sinceMs = instantParam(input.params, 'since', input.timeZone);
  const untilMs = instantParam(input.params, 'until', input.timeZone);
  if (sinceMs === undefined || untilMs === undefined) throw new PdError('invalidInput', ['since and until are required for schedule overrides']);
  const overrides = schedule.overrides.filter((override) => override.end.getTime() > sinceMs && override.start.getTime() < untilMs);
  return {
    overrides: overrides.map((override) => ({
      id: override.id,
      type: 'override',
      start: input.wire.formatTime(override.start),
      end: input.wire.formatTime(override.end),
      user: userReference(input.wire, input.wire.index.anyUser(override.userId), override.userId),
    })),
  };
}

/**
 * `GET /oncalls`: who is on call between `since` and `until` (both default to now). Windows reaching
 * more than 90 days past `since` are rejected.
 */
function listOnCalls(input: RouteInput): Json {
  const { params, wire, context } = input;
  const include = includes(params, ['escalation_policies', 'users', 'schedules']);
  const now = context.dataNowMs();
  const sinceMs = instantParam(params, 'since', input.timeZone) ?? now;
  const untilMs = instantParam(params, 'until', input.timeZone) ?? sinceMs;
  if (untilMs < sinceMs) throw new PdError('invalidInput', ['until must not be before since']);
  if (untilMs - sinceMs > MAX_ONCALL_WINDOW_DAYS * DAY_MS) throw new PdError('invalidInput', [`The on-call window may span at most ${MAX_ONCALL_WINDOW_DAYS} days; narrow since and until`]);
  const paging = parseOffsetRequest(params);

  const userIds = arrayParam(params, 'user_ids');
  const policyIds = arrayParam(params, 'escalation_policy_ids');
  const scheduleIds = arrayParam(params, 'schedule_ids');
  let entries = onCallEntries(context.account, sinceMs, untilMs).filter(
    (entry) =>
      (userIds.length === 0 || userIds.includes(entry.userId)) &&
      (policyIds.length === 0 || policyIds.includes(entry.escalationPolicyId)) &&
      (scheduleIds.length === 0 || (entry.scheduleId !== null && scheduleIds.includes(entry.scheduleId))),
  );
  if (params.get('earliest') === 'true') entries = earliestPerCombination(entries);

  const page = offsetPage(paging, entries.length, (start, end) => entries.slice(start, end));
  return {
    oncalls: page.items.map((entry) => {
      const policy = context.account.escalationPolicies.find((candidate) => candidate.id === entry.escalationPolicyId);
      const schedule = entry.scheduleId === null ? undefined : wire.index.schedule(entry.scheduleId);
      const user = wire.index.anyUser(entry.userId);
      return {
        escalation_policy: policy === undefined ? null : include.has('escalation_policies') ? policyObject(input, policy) : policyReference(wire, policy),
        escalation_level: entry.escalationLevel,
        schedule: schedule === undefined ? null : scheduleReference(wire, schedule),
        user: include.has('users') && user !== undefined ? userObject(wire, user, new Set()) : userReference(wire, user, entry.userId),
        start: entry.startMs === null ? null : wire.formatTime(new Date(entry.startMs)),
        end: entry.endMs === null ? null : wire.formatTime(new Date(entry.endMs)),
      };
    }),
    ...page.envelope,
  };
}

/** With `earliest=true` PagerDuty keeps one entry per user, policy and level: the one starting first. */
function earliestPerCombination(entries: OnCallEntry[]): OnCallEntry[] {
  const kept = new Map<string, OnCallEntry>();
  for (const entry of entries) {
    const key = `${entry.userId}:${entry.escalationPolicyId}:${entry.escalationLevel}`;
    const previous = kept.get(key);
    if (previous === undefined || (entry.startMs ?? -Infinity) < (previous.startMs ?? -Infinity)) kept.set(key, entry);
  }
  return [...kept.values()];
}

function policyObject(input: RouteInput, policy: SimEscalationPolicy): Json {
  const { wire, context } = input;
  const team = wire.index.team(policy.teamId);
  return {
    id: policy.id,
    type: 'escalation_policy',
    summary: policy.name,
    self: `${wire.apiUrl}/escalation_policies/${policy.id}`,
    html_url: `https://${wire.account.subdomain}.pagerduty.com/escalation_policies/${policy.id}`,
    name: policy.name,
    description: policy.description,
    num_loops: policy.numLoops,
    on_call_handoff_notifications: 'if_has_services',
    escalation_rules: policy.rules.map((rule) => ({
      id: rule.id,
      escalation_delay_in_minutes: rule.delayMinutes,
      targets: rule.targets.map((target) => {
        if (target.type === 'user_reference') return userReference(wire, wire.index.anyUser(target.id), target.id);
        const schedule = wire.index.schedule(target.id);
        return reference(wire, 'schedule_reference', target.id, schedule?.name ?? null, `/schedules/${target.id}`, `/schedules/${target.id}`);
      }),
    })),
    services: context.account.services
      .filter((service) => service.escalationPolicyId === policy.id)
      .map((service) => reference(wire, 'service_reference', service.id, service.name, `/services/${service.id}`, `/service-directory/${service.id}`)),
    teams: team === undefined ? [] : [teamReference(wire, team)],
  };
}

function listEscalationPolicies(input: RouteInput): Json {
  includes(input.params, ['services', 'teams', 'targets', 'escalation_rule_assignment_strategies']);
  const query = (input.params.get('query') ?? '').trim().toLowerCase();
  const userIds = arrayParam(input.params, 'user_ids');
  const teamIds = arrayParam(input.params, 'team_ids');
  if (teamIds.length > 0) requireAbility(input.context, 'teams');
  const paging = parseOffsetRequest(input.params);

  const targetsUser = (policy: SimEscalationPolicy, userId: string): boolean =>
    policy.rules.some((rule) =>
      rule.targets.some((target) => (target.type === 'user_reference' ? target.id === userId : (input.wire.index.schedule(target.id)?.layer.userIds.includes(userId) ?? false))),
    );
  const policies = input.context.account.escalationPolicies.filter(
    (policy) =>
      (query === '' || policy.name.toLowerCase().includes(query)) &&
      (teamIds.length === 0 || teamIds.includes(policy.teamId)) &&
      (userIds.length === 0 || userIds.some((userId) => targetsUser(policy, userId))),
  );
  const page = offsetPage(paging, policies.length, (start, end) => policies.slice(start, end));
  return { escalation_policies: page.items.map((policy) => policyObject(input, policy)), ...page.envelope };
}

function getEscalationPolicy(input: RouteInput): Json {
  const policy = input.context.account.escalationPolicies.find((candidate) => candidate.id === pathParam(input));
  if (policy === undefined) throw new PdError('notFound', [`Escalation policy ${pathParam(input)} not found`]);
  return { escalation_policy: policyObject(input, policy) };
}

export const ONCALL_ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/schedules$/, scope: 'schedules.read', handle: listSchedules },
  { method: 'GET', pattern: new RegExp(`^/schedules/${ID}$`), scope: 'schedules.read', handle: getSchedule },
  { method: 'GET', pattern: new RegExp(`^/schedules/${ID}/users$`), scope: 'users.read', handle: listScheduleUsers },
  { method: 'GET', pattern: new RegExp(`^/schedules/${ID}/overrides$`), scope: 'schedules.read', handle: listOverrides },
  { method: 'GET', pattern: /^\/oncalls$/, scope: 'oncalls.read', handle: listOnCalls },
  { method: 'GET', pattern: /^\/escalation_policies$/, scope: 'escalation_policies.read', handle: listEscalationPolicies },
  { method: 'GET', pattern: new RegExp(`^/escalation_policies/${ID}$`), scope: 'escalation_policies.read', handle: getEscalationPolicy },
];
