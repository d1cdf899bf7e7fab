import { sql, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isStandingStateSource, PAGERDUTY_FEATURES, type FeatureCategory, type FeatureDefinition } from './pagerduty-features.ts';
import { daysAfter, daysBefore, type CrunchScope } from './scope.ts';

/** Last seen looks back this far: a sync fetches the last 90 days of log entries. */
export const LAST_SEEN_LOOKBACK_DAYS = 90;

/** How far ahead on-call shifts count as upcoming coverage; PagerDuty serves on-calls 90 days ahead. */
export const COVERAGE_HORIZON_DAYS = 90;

/** The signals that can set a person's last activity. */
export type ActivitySignal = 'incident_action' | 'sign_in' | 'mobile_app' | 'on_call_shift' | 'configuration_change';

/**
 * Maps each feature category to the signal its use counts as. Receiving notifications, stakeholder
 * subscriptions and account features show no activity of the person, so they map to null.
 */
const SIGNAL_OF_CATEGORY: Record<FeatureCategory, ActivitySignal | null> = {
  incident_response: 'incident_action',
  chat: 'incident_action',
  mobile: 'mobile_app',
  web: 'sign_in',
  on_call: 'on_call_shift',
  configuration: 'configuration_change',
  notifications: null,
  stakeholder: null,
  account: null,
};

/**
 * Returns the activity signal of a feature, or null when its use is not activity of the person. A
 * standing state, such as being on an escalation policy, shows no act of the person, and coverage
 * already contains escalation policy membership for the recommendation rules.
 */
export function activitySignalOf(feature: FeatureDefinition): ActivitySignal | null {
  if (feature.events.length > 0 && feature.events.every(isStandingStateSource)) return null;
  return SIGNAL_OF_CATEGORY[feature.category];
}

/**
 * Replaces the connection's people with one row per synced PagerDuty user: license, last seen
 * (incident actions only, as docs/architecture.md defines it), last activity over every signal,
 * teams and coverage. Reads `person_features`, so it runs after the activity facts.
 *
 * A person is invited but never signed up when the invitation is pending, PagerDuty's analytics do
 * not report a sign-up, and no signal shows any activity in the synced history.
 */
export async function recomputePeople(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const lookbackStart = daysBefore(scope.asOf, LAST_SEEN_LOOKBACK_DAYS);
  const coverageEnd = daysAfter(scope.asOf, COVERAGE_HORIZON_DAYS);
  const connection = sql`${scope.connectionId}::uuid`;

  await trx.deleteFrom('people').where('connection_id', '=', scope.connectionId).execute();

  await sql`
    insert into people (
      connection_id, organization_id, external_id, name, email, role,
      license_id, license_name, role_group,
      last_seen_at, last_seen_signal, last_seen_detail,
      last_activity_at, last_activity_signal, last_activity_detail,
      is_deleted, is_invited_never_signed_up,
      teams, escalation_policy_ids, schedule_ids, upcoming_shift_count, is_permanent_on_call, open_incident_count,
      computed_at
    )
    with
    activity_signals (feature_key, feature_name, signal, priority) as (values ${activitySignalRows()}),
    team_names as (
      select m.user_id, jsonb_agg(t.name order by t.name) as names
      from pd_team_members m
      join pd_teams t on t.connection_id = m.connection_id and t.id = m.team_id and t.deleted_at is null
      where m.connection_id = ${connection}
      group by m.user_id
    ),
    schedule_members as (
      select lu.user_id, jsonb_agg(distinct lu.schedule_id order by lu.schedule_id) as ids
      from pd_schedule_layer_users lu
      join pd_schedules s on s.connection_id = lu.connection_id and s.id = lu.schedule_id and s.deleted_at is null
      where lu.connection_id = ${connection}
      group by lu.user_id
    ),
    policy_members as (
      select t.target_id as user_id, t.escalation_policy_id
      from pd_escalation_targets t
      join pd_escalation_policies p on p.connection_id = t.connection_id and p.id = t.escalation_policy_id and p.deleted_at is null
      where t.connection_id = ${connection} and t.target_type in ('user', 'user_reference')
      union
      select lu.user_id, t.escalation_policy_id
      from pd_escalation_targets t
      join pd_escalation_policies p on p.connection_id = t.connection_id and p.id = t.escalation_policy_id and p.deleted_at is null
      join pd_schedule_layer_users lu on lu.connection_id = t.connection_id and lu.schedule_id = t.target_id
      where t.connection_id = ${connection} and t.target_type in ('schedule', 'schedule_reference')
    ),
    policies as (
      select user_id, jsonb_agg(escalation_policy_id order by escalation_policy_id) as ids
      from policy_members
      group by user_id
    ),
    shifts as (
      select
        o.user_id,
        (count(*) filter (
          where o.start_at is not null and o.start_at < ${coverageEnd}::timestamptz
            and (o.end_at is null or o.end_at > ${scope.asOf}::timestamptz)
        ))::int as upcoming,
        bool_or(o.start_at is null and o.end_at is null) as is_permanent
      from pd_oncalls o
      where o.connection_id = ${connection}
      group by o.user_id
    ),
    open_incidents as (
      select assignment.value -> 'assignee' ->> 'id' as user_id, count(distinct i.id)::int as open_count
      from pd_incidents i
      cross join lateral jsonb_array_elements(
        case when jsonb_typeof(i.raw -> 'assignments') = 'array' then i.raw -> 'assignments' else '[]'::jsonb end
      ) assignment
      where i.connection_id = ${connection} and i.status in ('triggered', 'acknowledged')
      group by 1
    )
    select
      u.connection_id, ${scope.organizationId}::uuid, u.id, u.name, u.email, u.role,
      l.id, l.name, l.role_group,
      seen.created_at,
      case when seen.created_at is null then null else 'incident_action' end,
      seen.detail,
      activity.last_used_at,
      activity.signal,
      case
        when activity.signal = 'incident_action' and activity.last_used_at = seen.created_at then seen.detail
        else activity.feature_name
      end,
      u.deleted_at is not null,
      u.invitation_sent
        and activity.last_used_at is null
        and coalesce(au.signed_up, false) = false
        and not exists (
          select 1 from pd_log_entries any_action
          where any_action.connection_id = u.connection_id
            and any_action.agent_id = u.id
            and any_action.agent_type = 'user_reference'
        ),
      coalesce(team_names.names, '[]'::jsonb),
      coalesce(policies.ids, '[]'::jsonb),
      coalesce(schedule_members.ids, '[]'::jsonb),
      coalesce(shifts.upcoming, 0),
      coalesce(shifts.is_permanent, false),
      coalesce(open_incidents.open_count, 0),
      ${scope.asOf}::timestamptz
    from pd_users u
    left join pd_license_allocations a on a.connection_id = u.connection_id and a.user_id = u.id
    left join pd_licenses l on l.connection_id = a.connection_id and l.id = a.license_id
    left join pd_analytics_users au on au.connection_id = u.connection_id and au.user_id = u.id
    left join team_names on team_names.user_id = u.id
    left join schedule_members on schedule_members.user_id = u.id
    left join policies on policies.user_id = u.id
    left join shifts on shifts.user_id = u.id
    left join open_incidents on open_incidents.user_id = u.id
    left join lateral (
      select
        e.created_at,
        regexp_replace(e.type, '_log_entry$', '') || coalesce(' via ' || e.channel_type, '') as detail
      from pd_log_entries e
      where e.connection_id = u.connection_id
        and e.agent_id = u.id
        and e.agent_type = 'user_reference'
        and e.created_at >= ${lookbackStart}::timestamptz
        and e.created_at <= ${scope.asOf}::timestamptz
      order by e.created_at desc, e.id desc
      limit 1
    ) seen on true
    left join lateral (
      select pf.last_used_at, s.signal, s.feature_name
      from person_features pf
      join activity_signals s on s.feature_key = pf.feature_key
      where pf.connection_id = u.connection_id and pf.external_id = u.id
      order by pf.last_used_at desc, s.priority, pf.feature_key
      limit 1
    ) activity on true
    -- NOTE: agents of log entries who are missing from pd_users get no row, so their actions count
    -- in activity facts but never in people or seats.
    where u.connection_id = ${connection}
  `.execute(trx);
}

/** Renders the catalogue's activity features as VALUES rows; incident actions win ties. */
function activitySignalRows(): RawBuilder<unknown> {
  const rows: RawBuilder<unknown>[] = [];
  for (const feature of PAGERDUTY_FEATURES) {
    const signal = activitySignalOf(feature);
    if (signal === null) continue;
    const priority = signal === 'incident_action' ? 0 : 1;
    rows.push(sql`(${feature.key}::text, ${feature.name}::text, ${signal}::text, ${priority}::int)`);
  }
  return sql.join(rows);
}
